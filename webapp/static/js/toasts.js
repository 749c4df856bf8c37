// Short notices about what happened (joins, leaves, who paused or queued what, errors,
// reconnects), in a live region so screen readers announce them too.
import { h, icon } from "./dom.js";

// On a phone, toasts cover the page: fewer at once.
const maxShown = () => (window.matchMedia("(max-width: 480px)").matches ? 2 : 4);
let region = null;

export function setupToasts(el) {
  region = el;
}

/** toast("Ana paused") or toast("Could not skip: ...", "error"); `ms` overrides how long. */
export function toast(text, kind = "info", ms = null) {
  if (!region) return;
  const close = h(
    "button",
    { type: "button", class: "toast-close", "aria-label": "Dismiss", title: "Dismiss" },
    icon("M6 6l12 12M18 6 6 18"),
  );
  const item = h("div", { class: `toast ${kind}`, "data-kind": kind }, h("span", { text }), close);
  const remove = () => item.remove();
  close.addEventListener("click", remove);
  region.append(item);
  while (region.children.length > maxShown()) region.firstElementChild.remove();
  setTimeout(remove, ms ?? (kind === "error" ? 9000 : 5000));
}

/** The error ack of a request, shown with the server's own explanation. */
export function ackError(what, reply) {
  const detail = reply?.detail || reply?.error || "no answer from the server";
  toast(`${what}: ${detail}`, "error");
}
