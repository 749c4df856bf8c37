// Room settings: the room's policy in plain words for everyone, and the controls for the host
// (the only role the server lets change it, besides an admin). A refused change reverts its
// control to what the room holds; the accepted one comes back as `policy_changed`.
import { $ } from "./dom.js";
import { policySummary } from "./policy.js";
import { toast } from "./toasts.js";

const MAX_QUEUE = { min: 1, max: 10_000 }; // docs/protocol.md, set_policy

export function setupSettings({ act }) {
  const summary = $("policy-summary");
  const form = $("settings-form");
  const radios = [...form.querySelectorAll('input[name="control"]')];
  const queueing = $("policy-queue");
  const autoplay = $("policy-autoplay");
  const limit = $("policy-max-queue");
  let held = null; // the policy as the room holds it: what a refused change goes back to

  function show(policy) {
    summary.textContent = policySummary(policy);
    for (const radio of radios) radio.checked = radio.value === policy.control;
    queueing.checked = policy.listeners_can_queue;
    autoplay.checked = policy.autoplay;
    limit.value = String(policy.max_queue);
    limit.removeAttribute("aria-invalid");
  }

  function render(state, me) {
    if (!state?.policy) return;
    held = state.policy;
    form.hidden = me?.role !== "host";
    show(held);
  }

  async function send(change) {
    form.setAttribute("aria-busy", "true");
    const reply = await act("Could not change the room settings", "set_policy", change);
    form.removeAttribute("aria-busy");
    if (!reply.ok && held) show(held); // the room did not change: neither does the form
  }

  for (const radio of radios) radio.addEventListener("change", () => radio.checked && send({ control: radio.value }));
  queueing.addEventListener("change", () => send({ listeners_can_queue: queueing.checked }));
  autoplay.addEventListener("change", () => send({ autoplay: autoplay.checked }));
  limit.addEventListener("change", () => {
    const value = Number(limit.value);
    if (limit.value.trim() === "" || !Number.isInteger(value) || value < MAX_QUEUE.min || value > MAX_QUEUE.max) {
      toast(`Could not change the queue limit: it must be a whole number from ${MAX_QUEUE.min} to ${MAX_QUEUE.max}`, "error");
      if (held) show(held);
      return;
    }
    if (value !== held?.max_queue) send({ max_queue: value });
  });
  form.addEventListener("submit", (event) => event.preventDefault()); // Enter in the number field

  return { render };
}
