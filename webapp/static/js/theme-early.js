// Runs before the first paint (a classic script, not a module) so a remembered theme does not
// flash the other one first. The theme button itself lives in theme.js.
(function () {
  try {
    var theme = window.localStorage.getItem("lockstep.theme");
    if (theme === "dark" || theme === "light") document.documentElement.dataset.theme = theme;
  } catch (e) {
    /* no storage: follow the system */
  }
})();
