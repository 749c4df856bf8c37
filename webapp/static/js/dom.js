// DOM helpers. Everything that comes from the server or a user goes in as text (textContent,
// attributes), never as markup: the page never parses a string as HTML.

export const $ = (id) => document.getElementById(id);

/** h("li", { class: "x", "aria-label": name, onclick: fn }, child, "text", ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "text") {
      el.textContent = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** A small stroked icon from path data (the paths are ours, never data). */
export function icon(...paths) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  for (const d of paths) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const ICONS = {
  add: ["M12 5v14M5 12h14"],
  next: ["M4 7h11M4 12h11M4 17h7M17 14l4 3-4 3v-6Z"],
  up: ["m6 15 6-6 6 6"],
  down: ["m6 9 6 6 6-6"],
  remove: ["M6 6l12 12M18 6 6 18"],
  play: ["M8 5.5v13L18.5 12 8 5.5Z"],
};

export function iconButton(label, paths, onClick, extra = {}) {
  return h(
    "button",
    { type: "button", class: "icon-button small", "aria-label": label, title: label, onclick: onClick, ...extra },
    icon(...paths),
  );
}

/** Replace an element's children (an empty list clears it). */
export function fill(el, children) {
  el.replaceChildren(...children);
}

/** True when keyboard input is going to a field, so shortcuts must stay out of the way. */
export function typingIn(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target.getAttribute("type") || "text").toLowerCase();
  return !["button", "checkbox", "radio", "range", "submit", "reset"].includes(type);
}
