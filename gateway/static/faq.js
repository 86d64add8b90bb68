// FAQ chat: ask a collection in Korean or English; show the answer or say that nothing fits.
"use strict";
(() => {
  const { api, el, status, bubble } = Malgeul;
  const $ = (id) => document.getElementById(id);
  const log = $("log"), statusLine = $("status");

  // The list arrives after the page: it may pick a collection only if the user has not started on the field.
  let chosen = false;
  $("collection").addEventListener("focus", () => { chosen = true; });
  api("/v1/faq/collections").then((collections) => {
    $("collections").replaceChildren(...collections.map((c) => el("option", { value: c.collection }, `${c.entries} entries`)));
    const field = $("collection");
    if (!chosen && collections.length && !collections.some((c) => c.collection === field.value)) field.value = collections[0].collection;
  }).catch((error) => status(statusLine, "Collections unavailable: " + error.message, true));

  $("ask").addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question) return;
    $("question").value = ""; $("send").disabled = true;
    bubble(log, "me", question);
    status(statusLine, "…");
    try {
      const collection = encodeURIComponent($("collection").value.trim());
      const result = await api(`/v1/faq/collections/${collection}/ask`, { method: "POST", json: { question, top_k: 3 } });
      if (result.answer) {
        bubble(log, "bot", result.answer.answer, el("div", { class: "muted answer-meta" },
          `${result.answer.question} · score ${result.answer.score.toFixed(2)}`)).classList.add("answer");
      } else {
        const near = result.candidates.slice(0, 3).map((c) => el("li", {}, c.question));
        bubble(log, "bot", "Sorry, this FAQ does not cover that. 해당 질문에 대한 답이 없습니다.",
          near.length ? el("div", { class: "muted" }, "Closest questions:", el("ul", {}, near)) : null).classList.add("abstained");
      }
      status(statusLine, "");
    } catch (error) { status(statusLine, error.message, true); bubble(log, "bot", error.message).classList.add("error"); }
    $("send").disabled = false;
    $("question").focus();
  });
})();
