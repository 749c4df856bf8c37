// Requests over the socket, as plain promises of the ack: never a throw, so every caller can
// show the server's own explanation. No socket.io import here, so this runs under node too.

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
