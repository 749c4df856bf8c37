// Keyboard shortcuts. None of them fires while the listener types in a field, or with a
// modifier held (browser and system shortcuts stay theirs).
import { typingIn } from "./dom.js";

export function setupKeys({ inRoom, actions, help }) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typingIn(event.target)) return;
    if (event.key === "?") {
      event.preventDefault();
      help();
      return;
    }
    if (!inRoom() || document.querySelector("dialog[open]")) return;
    const onControl = event.target instanceof Element && event.target.closest("button, a, select, summary, input[type=range]");
    const run = (fn) => {
      event.preventDefault();
      fn();
    };
    switch (event.key) {
      case " ":
      case "Spacebar":
        // Space on a focused button presses that button; elsewhere it is play/pause.
        if (!(onControl && !event.target.closest("input[type=range]"))) run(actions.toggle);
        break;
      case "ArrowLeft":
        if (!onControl?.matches?.("input[type=range], select")) run(() => actions.seekBy(-5));
        break;
      case "ArrowRight":
        if (!onControl?.matches?.("input[type=range], select")) run(() => actions.seekBy(5));
        break;
      case "ArrowUp":
        if (!onControl?.matches?.("input[type=range], select")) run(() => actions.volumeBy(0.1));
        break;
      case "ArrowDown":
        if (!onControl?.matches?.("input[type=range], select")) run(() => actions.volumeBy(-0.1));
        break;
      case "m":
      case "M":
        run(actions.toggleMute);
        break;
      case "n":
      case "N":
        run(actions.skip);
        break;
      case "p":
      case "P":
        run(actions.previous);
        break;
      case "/":
        run(actions.focusSearch);
        break;
      default:
    }
  });
}
