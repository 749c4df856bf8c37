// The page's formatting helpers: room ids from typed names, times on the seek bar.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, slug, spokenClock } from "../../../webapp/static/js/format.js";

test("a typed room name becomes an id the server accepts", () => {
  const id = /^[a-z0-9][a-z0-9_-]{0,63}$/;
  assert.equal(slug("Friday Party!"), "friday-party");
  assert.equal(slug("  Café Crème  "), "cafe-creme");
  assert.equal(slug("--under_score--"), "under_score");
  assert.equal(slug("<img src=x onerror=alert(1)>"), "img-src-x-onerror-alert-1");
  assert.equal(slug("🎧🎧"), ""); // nothing usable: the page asks the server for an id instead
  const long = slug("a b ".repeat(40));
  assert.ok(long.length <= 64 && id.test(long) && !long.endsWith("-"), long);
});

test("times read as the seek bar shows and a screen reader says them", () => {
  assert.equal(clock(0), "0:00");
  assert.equal(clock(65.9), "1:05");
  assert.equal(clock(3725), "1:02:05");
  assert.equal(clock(Number.NaN), "0:00");
  assert.equal(spokenClock(61), "1 minute 1 second");
  assert.equal(spokenClock(125), "2 minutes 5 seconds");
});
