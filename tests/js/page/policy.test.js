// The room policy in plain words (webapp/static/js/policy.js): what every page shows, and the
// notice of what someone changed.
import assert from "node:assert/strict";
import { test } from "node:test";

import { policyChange, policySummary } from "../../../webapp/static/js/policy.js";

const OPEN = { control: "everyone", listeners_can_queue: true, autoplay: true, max_queue: 500 };

test("the summary says who controls playback and who may queue", () => {
  assert.equal(policySummary(OPEN), "Everyone controls playback. Playback starts when a track is queued. Queue limit: 500 tracks.");
  const djs = policySummary({ ...OPEN, control: "djs" });
  assert.match(djs, /^Only the host and DJs control playback\. Listeners may still add tracks\./);
  assert.match(policySummary({ ...OPEN, control: "djs", listeners_can_queue: false }), /Only the host and DJs add tracks\./);
  assert.match(policySummary({ ...OPEN, autoplay: false, max_queue: 3 }), /Queued tracks wait for Play\. Queue limit: 3 tracks\.$/);
});

test("a change is told by what changed, and no change tells nothing", () => {
  assert.equal(policyChange("Ana", OPEN, { ...OPEN, control: "djs" }), "Ana made playback host and DJs only");
  assert.equal(policyChange("Ana", { ...OPEN, control: "djs" }, OPEN), "Ana let everyone control playback");
  assert.equal(policyChange("Bo", OPEN, { ...OPEN, listeners_can_queue: false }), "Bo stopped listeners adding tracks");
  assert.equal(policyChange("Bo", OPEN, { ...OPEN, autoplay: false, max_queue: 9 }), "Bo made queued tracks wait for Play, set the queue limit to 9");
  assert.equal(policyChange("Ana", OPEN, { ...OPEN }), null);
});
