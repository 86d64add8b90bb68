// Shared helpers of the demo pages: call the public API through this gateway and show its problems.
"use strict";

const Malgeul = (() => {
  const key = () => localStorage.getItem("malgeul-api-key") || "";

  /** Fetch `path` on this gateway; returns parsed JSON (or the Response for binary), throws Error(detail). */
  async function api(path, { method = "GET", json, form, raw = false } = {}) {
    const headers = {};
    if (key()) headers["Authorization"] = "Bearer " + key();
    let body;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    if (form !== undefined) body = form;
    const response = await fetch(path, { method, headers, body });
    if (!response.ok) {
      let detail = response.status + " " + response.statusText;
      try { const problem = await response.json(); detail = problem.detail || problem.title || detail; } catch (_) { /* not JSON */ }
      const error = new Error(detail); error.status = response.status; throw error;
    }
    if (raw) return response;
    if (response.status === 204) return null;
    return response.json();
  }

  /** Create an element: el("td", {class: "num"}, "3"). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value; else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** A <table> from column names and rows (numbers right-aligned). */
  function table(columns, rows, caption) {
    const head = el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c))));
    const body = el("tbody", {}, rows.map((row) => el("tr", {}, row.map((v) =>
      el("td", { class: typeof v === "number" ? "num" : null }, v === null || v === undefined ? "—" : v)))));
    return el("div", { class: "table-wrap" }, el("table", {}, caption ? el("caption", {}, caption) : null, head, body));
  }

  function status(node, text, isError = false) {
    node.textContent = text;
    node.classList.toggle("error", isError);
  }

  /** Append a chat bubble to `log` and scroll it into view. */
  function bubble(log, who, text, extra) {
    const item = el("li", { class: who === "me" ? "me" : "bot" },
      el("span", { class: "who" }, who === "me" ? "You · 나" : "Malgeul"), el("span", { class: "text" }, text), extra || null);
    log.append(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  return { api, el, table, status, bubble };
})();
