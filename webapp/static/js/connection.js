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

/** Resolves true once connected (at once if already), false after `ms`. */
export function connected(socket, ms = 5000) {
  if (socket.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok) => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      resolve(ok);
    };
    const onConnect = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    socket.on("connect", onConnect);
  });
}

/** emitWithAck that never throws: a timeout or a dropped connection is an error reply. */
export async function request(socket, event, payload = {}, timeoutMs = 8000) {
  if (!socket.connected) {
    return { ok: false, error: "not_connected", detail: "not connected to the server right now" };
  }
  try {
    return await socket.timeout(timeoutMs).emitWithAck(event, payload);
  } catch {
    return { ok: false, error: "timeout", detail: "the server did not answer in time" };
  }
}
