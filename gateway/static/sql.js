// Questions to SQL: ask in Korean, see the answer, the SQL that produced it and its rows.
"use strict";
(() => {
  const { api, el, table, status, bubble } = Malgeul;
  const $ = (id) => document.getElementById(id);
  const log = $("log"), statusLine = $("status");

  $("ask").addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question) return;
    $("question").value = ""; $("send").disabled = true;
    bubble(log, "me", question);
    status(statusLine, "…");
    try {
      const result = await api("/v1/sql/ask", {
        method: "POST", json: { question, database: $("database").value.trim() || "matches", execute: true, max_rows: 100 } });
      const details = el("div", { class: "sql-result" },
        el("pre", {}, el("code", { class: "sql" }, result.sql)),
        table(result.columns, result.rows, `${result.rows.length} row(s) · confidence ${Math.round(result.confidence * 100)}%`));
      bubble(log, "bot", result.answer, details).classList.add("answer");
      status(statusLine, "");
    } catch (error) { status(statusLine, error.message, true); bubble(log, "bot", error.message).classList.add("error"); }
    $("send").disabled = false;
    $("question").focus();
  });
})();
