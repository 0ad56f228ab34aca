// How a wait is said, on every page (issue 10 §4): the twin of
// queue_server/wait_words.py (the printed ticket and the server use that);
// tests/wait_wording_cases.json holds the cases both must agree on.
//
// - No estimate (no counter serves the service now): "unknown".
// - Nobody ahead: "soon" (まもなく), whatever the estimate says.
// - Someone ahead: "about N minutes", N the estimate rounded up to a step of
//   5 minutes and never less than 5: never "0 minutes" with people ahead.

export const STEP_MINUTES = 5;

// `ahead`: people in front (null: not known); `minutes`: the estimate.
// Returns {kind: "unknown" | "soon" | "minutes", minutes: number | null}.
export function waitWording(ahead, minutes) {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes)) {
    return { kind: "unknown", minutes: null };
  }
  if (ahead === 0) return { kind: "soon", minutes: null };
  const steps = Math.max(1, Math.ceil(Math.max(0, minutes) / STEP_MINUTES));
  return { kind: "minutes", minutes: steps * STEP_MINUTES };
}
