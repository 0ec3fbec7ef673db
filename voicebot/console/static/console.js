// The console's live updates: the agent's screen listens on /agent/events (server-sent
// events). A ring fetches the call's screen-pop; a state change updates the status; a lost
// connection shows "Reconnecting…" until the browser's EventSource is back.
"use strict";
window.voicebot = { pops: [], states: [] };

function agentScreen(root) {
  const banner = document.getElementById("reconnect");
  const pop = document.getElementById("pop");
  const state = document.getElementById("state");
  const reason = document.getElementById("reason");
  const events = new EventSource(root.dataset.events);
  events.onopen = () => { banner.hidden = true; root.dataset.connected = "1"; };
  events.onerror = () => { banner.hidden = false; root.dataset.connected = "0"; };
  events.addEventListener("ring", async (e) => {
    const received = performance.now();
    const data = JSON.parse(e.data);
    const response = await fetch("/calls/" + encodeURIComponent(data.call_id) + "/pop", { credentials: "same-origin" });
    if (!response.ok) return;
    pop.innerHTML = await response.text();
    // lag: from the server's push (the queue rang the agent's phone) to the pop on screen
    window.voicebot.pops.push({ call_id: data.call_id, lag_ms: Date.now() - data.at * 1000, fetch_ms: performance.now() - received });
  });
  events.addEventListener("state", (e) => {
    const data = JSON.parse(e.data);
    state.dataset.state = data.state;
    state.textContent = data.state;
    reason.textContent = data.reason || "";
    window.voicebot.states.push(data);
  });
}

// The supervisor's wall-board: the server re-renders it every 2 s over /supervisor/events.
window.voicebot.boards = [];
function wallBoard(root) {
  const banner = document.getElementById("reconnect");
  const events = new EventSource(root.dataset.events);
  events.onopen = () => { banner.hidden = true; root.dataset.connected = "1"; };
  events.onerror = () => { banner.hidden = false; root.dataset.connected = "0"; };
  events.addEventListener("board", (e) => {
    const data = JSON.parse(e.data);
    root.innerHTML = data.html;
    window.voicebot.boards.push({ lag_ms: Date.now() - data.at * 1000, build_ms: data.build_ms });
    root.dataset.updates = String(window.voicebot.boards.length);
  });
}

// Click-to-seek: a transcript turn starts the call's recording at that turn (media seconds).
document.addEventListener("click", (e) => {
  const turn = e.target.closest ? e.target.closest(".turn[data-start]") : null;
  const player = document.querySelector("#recording audio");
  if (!turn || !player) return;
  player.currentTime = parseFloat(turn.dataset.start) || 0;
  player.play().catch(() => {});  // a browser that refuses to play still shows the position
});

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("agent");
  if (root) agentScreen(root);
  const board = document.getElementById("board");
  if (board) wallBoard(board);
});
