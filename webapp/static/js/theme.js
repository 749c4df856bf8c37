// Dark and light themes: follow the system until the listener picks one, then remember it.
import * as store from "./store.js";

const media = window.matchMedia("(prefers-color-scheme: dark)");

export function current() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "dark" || chosen === "light") return chosen;
  return media.matches ? "dark" : "light";
}

function describe(button) {
  const next = current() === "dark" ? "light" : "dark";
  button.title = `Switch to the ${next} theme`;
  button.dataset.theme = current();
  document.querySelector('meta[name="color-scheme"]')?.setAttribute("content", current());
}

export function setupTheme(button) {
  const stored = store.get("theme");
  if (stored === "dark" || stored === "light") document.documentElement.dataset.theme = stored;
  describe(button);
  button.addEventListener("click", () => {
    const next = current() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    store.set("theme", next);
    describe(button);
  });
  media.addEventListener("change", () => describe(button));
}
