// Voice chat: pick a topic, speak (MediaRecorder) or type, see the transcript, reply and feedback, hear the reply.
"use strict";
(() => {
  const { api, el, status, bubble } = Malgeul;
  const $ = (id) => document.getElementById(id);
  const log = $("log"), player = $("player"), statusLine = $("status");
  const recordButton = $("record"), textInput = $("text"), sendButton = $("send");
  let sessionId = null, recorder = null, chunks = [], busy = false;

  function setBusy(value) {
    busy = value;
    const off = value || !sessionId;
    sendButton.disabled = off; textInput.disabled = off;
    recordButton.disabled = (value && !recorder) || !sessionId || !navigator.mediaDevices || !window.MediaRecorder;
  }

  function play(url) {
    if (!url) return;
    player.src = url;
    player.play().catch(() => status(statusLine, "Press play to hear the reply. 재생을 눌러 답을 들으세요."));
  }

  function feedbackBlock(feedback) {
    if (!feedback || (!feedback.suggestion && !feedback.notes.length)) return null;
    return el("div", { class: "feedback" },
      feedback.suggestion ? el("div", { class: "suggestion" }, "Try: ", el("q", {}, feedback.suggestion)) : null,
      feedback.notes.length ? el("ul", { class: "notes" }, feedback.notes.map((n) => el("li", {}, n))) : null);
  }

  async function loadChoices() {
    try {
      const topics = await api("/v1/conversation/topics");
      $("topic").replaceChildren(...topics.map((t) =>
        el("option", { value: t.id }, `${t.title} · ${t.title_ko} (${t.level})`)));
    } catch (error) { status(statusLine, "Topics unavailable: " + error.message, true); }
    try {
      const voices = await api("/v1/audio/voices");
      for (const v of voices.filter((v) => v.language === "en")) $("voice").append(el("option", { value: v.id }, `${v.id} — ${v.description}`));
    } catch (_) { /* the default voice still works */ }
  }

  $("setup").addEventListener("submit", async (event) => {
    event.preventDefault();
    setBusy(true);
    status(statusLine, "Starting… 시작하는 중");
    try {
      const body = { topic: $("topic").value };
      if ($("voice").value) body.voice = $("voice").value;
      const session = await api("/v1/conversation/sessions", { method: "POST", json: body });
      sessionId = session.session_id;
      log.replaceChildren();
      bubble(log, "bot", session.reply.text);
      play(session.reply.audio_url);
      status(statusLine, "Your turn: speak or type. 말하거나 입력하세요.");
    } catch (error) { status(statusLine, error.message, true); }
    setBusy(false);
  });

  async function sendTurn(options, shownText) {
    setBusy(true);
    const mine = shownText ? bubble(log, "me", shownText) : null;
    status(statusLine, "Thinking… 생각하는 중");
    try {
      const turn = await api(`/v1/conversation/sessions/${sessionId}/turns`, { method: "POST", ...options });
      const learner = mine || bubble(log, "me", turn.transcript || "(nothing heard)");
      learner.classList.add("learner-turn");
      const fb = feedbackBlock(turn.feedback);
      if (fb) learner.append(fb);
      bubble(log, "bot", turn.reply.text);
      play(turn.reply.audio_url);
      status(statusLine, turn.finished ? "Role-play finished — start another! 끝났어요." : "Your turn. 당신 차례예요.");
      if (turn.finished) sessionId = null;
    } catch (error) { status(statusLine, error.message, true); }
    setBusy(false);
  }

  $("type").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textInput.value.trim();
    if (!text || !sessionId || busy) return;
    textInput.value = "";
    sendTurn({ json: { text } }, text);
  });

  recordButton.addEventListener("click", async () => {
    if (recorder && recorder.state === "recording") { recorder.stop(); return; }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"].find((t) => MediaRecorder.isTypeSupported(t));
      recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      chunks = [];
      recorder.addEventListener("dataavailable", (e) => { if (e.data.size) chunks.push(e.data); });
      recorder.addEventListener("stop", () => {
        stream.getTracks().forEach((t) => t.stop());
        recordButton.setAttribute("aria-pressed", "false");
        recordButton.textContent = "● Speak 말하기";
        const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
        recorder = null;
        const form = new FormData();
        form.append("audio", blob, "turn." + (blob.type.includes("ogg") ? "ogg" : "webm"));
        sendTurn({ form });
      });
      player.pause();
      recorder.start();
      recordButton.setAttribute("aria-pressed", "true");
      recordButton.textContent = "■ Stop & send 보내기";
      status(statusLine, "Recording… press again to send. 녹음 중");
    } catch (error) { status(statusLine, "Microphone unavailable: " + error.message, true); }
  });

  loadChoices();
  setBusy(false);
})();
