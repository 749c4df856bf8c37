// The Socket.IO connection: one socket for the page's lifetime, reconnecting by itself with
// socket.io's exponential backoff, and the connection indicator in the top bar.
import { io } from "/static/vendor/socket.io.esm.min.js";

const TEXT = { connected: "connected", reconnecting: "reconnecting…", offline: "offline" };

export function connect(indicatorText) {
  const socket = io({
    transports: ["websocket", "polling"],
    reconnection: true,
    reconnectionDelay: 500, // then 1 s, 2 s, … (x2 each attempt, ±50 % jitter)
    reconnectionDelayMax: 10_000,
    randomizationFactor: 0.5,
    timeout: 8000,
  });
  const show = (state) => {
    document.body.dataset.connection = state;
    indicatorText.textContent = TEXT[state];
  };
  show("offline");
  socket.on("connect", () => show("connected"));
  socket.on("disconnect", () => show(navigator.onLine === false ? "offline" : "reconnecting"));
  socket.on("connect_error", () => {
    if (!socket.connected) show(navigator.onLine === false ? "offline" : "reconnecting");
  });
  window.addEventListener("offline", () => show("offline"));
  window.addEventListener("online", () => {
    if (!socket.connected) show("reconnecting");
  });
  return socket;
}
