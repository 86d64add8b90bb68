// Match-result OCR: upload a screenshot, show the parsed match as tables, save it on request.
"use strict";
(() => {
  const { api, el, table, status } = Malgeul;
  const $ = (id) => document.getElementById(id);
  const statusLine = $("status");
  let lastFile = null;

  function render(result) {
    const match = result.match;
    $("match-title").textContent = match.title || "Match";
    $("match-meta").textContent = [match.map ? "Map: " + match.map : null, "engine: " + result.engine,
      "confidence: " + Math.round(result.confidence * 100) + "%", result.fallback_used ? "fallback engine used" : null]
      .filter(Boolean).join(" · ");
    const summary = table(["Team", "Score", "Result"],
      match.teams.map((t, i) => [t.name || `Team ${i + 1}`, t.score, t.result]), "Teams 팀");
    summary.querySelector("table").id = "teams-summary";
    const playerTables = match.teams.map((t, i) => table(["Player", "Kills", "Deaths", "Assists"],
      t.players.map((p) => [p.nickname, p.kills, p.deaths, p.assists]), `${t.name || "Team " + (i + 1)} players`));
    $("teams").replaceChildren(summary, ...playerTables);
    $("warnings").replaceChildren(...result.warnings.map((w) => el("li", {}, w)));
    $("result").hidden = false;
  }

  async function send(save) {
    const form = new FormData();
    form.append("image", lastFile);
    if (save) form.append("save", "true");
    return api("/v1/ocr/match-results", { method: "POST", form });
  }

  $("image").addEventListener("change", () => {
    const file = $("image").files[0];
    if (!file) return;
    $("preview").src = URL.createObjectURL(file);
    $("preview").hidden = false;
  });

  $("upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    lastFile = $("image").files[0];
    if (!lastFile) return;
    $("read").disabled = true; $("saved").textContent = ""; $("save").disabled = false;
    status(statusLine, "Reading the screenshot… 인식하는 중");
    try { render(await send(false)); status(statusLine, "Done. Check the numbers, then save. 확인 후 저장하세요."); }
    catch (error) { status(statusLine, error.message, true); }
    $("read").disabled = false;
  });

  $("save").addEventListener("click", async () => {
    if (!lastFile) return;
    $("save").disabled = true;
    status(statusLine, "Saving… 저장하는 중");
    try {
      const result = await send(true);
      render(result);
      $("saved").textContent = result.id ? "Saved as " + result.id + " 저장됨" : "Not saved";
      status(statusLine, "Saved. 저장했습니다.");
    } catch (error) { status(statusLine, error.message, true); $("save").disabled = false; }
  });
})();
