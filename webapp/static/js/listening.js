// This listener's audio: the engine's status shown and reported (buffering, for the others),
// "Click to listen" while the browser holds the sound back, and the device offset and figures.
import { $ } from "./dom.js";

export function setupListening({ player, session, transport }) {
  let lastStatus = {};
  let lockedSince = null;
  const bar = $("unlock-bar");

  player.on("status", (status) => {
    lastStatus = status;
    update();
  });

  function showStatus() {
    const locked = !bar.hidden;
    // Held back by the browser is not buffering: the others need not wait for a click.
    const buffering = session.inRoom && session.state?.status === "playing" && lastStatus.buffering && !locked;
    session.setBuffering(Boolean(buffering));
    transport.showSync(lastStatus, session.state, locked);
  }

  function update() {
    // The room plays, this page stays silent, and nobody has clicked or typed here yet (a
    // direct link with a remembered name joins by itself): the browser is holding sound back.
    const playing = session.inRoom && session.state?.status === "playing";
    const refused = /NotAllowed/i.test(String(lastStatus.error || ""));
    const noGesture = navigator.userActivation ? !navigator.userActivation.hasBeenActive : false;
    if (!playing || lastStatus.playing) lockedSince = null;
    else if (refused || (noGesture && !lastStatus.loading)) lockedSince ??= Date.now();
    // Loading alone never clears it: the engine retries a held-back start, and a prompt that
    // blinks with every retry cannot be clicked.
    bar.hidden = lockedSince === null || (!refused && Date.now() - lockedSince < 1500);
    showStatus();
  }
  setInterval(update, 500);

  // Any first click or key press on the page is a gesture too (say, on a direct link that
  // joined by itself): let the engine use it, or the page would stay silent with no prompt.
  const firstGesture = () => {
    document.removeEventListener("pointerdown", firstGesture, true);
    document.removeEventListener("keydown", firstGesture, true);
    player.unlock();
  };
  document.addEventListener("pointerdown", firstGesture, true);
  document.addEventListener("keydown", firstGesture, true);

  $("unlock").addEventListener("click", () => {
    player.unlock(); // the click is the gesture the browser waits for
    lastStatus = { ...lastStatus, error: null };
    lockedSince = null;
    bar.hidden = true;
    showStatus();
  });

  // The device offset (Bluetooth speakers play late), kept by the engine.
  const offset = $("device-offset");
  offset.value = String(Math.round(player.deviceOffset() || 0));
  offset.addEventListener("change", () => {
    const ms = Math.max(-1000, Math.min(1000, Number(offset.value) || 0));
    offset.value = String(ms);
    player.setDeviceOffset(ms);
  });

  // What the engine measures, for the curious (and for "why does it sound late?").
  const device = document.querySelector("details.device");
  setInterval(() => {
    if (!device.open) return;
    const d = player.debug();
    const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : "–");
    $("sync-debug").textContent = `Output: ${d.mode || "–"}. Round trip ${ms(d.rttMs)}, drift ${ms(d.driftMs)}, corrections ${d.corrections ?? 0}.`;
  }, 1000);

  return { update };
}
