// Which office and counter this window works at. The address of the
// window carries it (?office=&counter=), so two windows side by side keep
// two counters, and a reload stays where it was; localStorage remembers the
// last choice on this PC for the next window opened without one.

const STORAGE_KEY = "madoguchi.staff-counter";

export function fromAddress() {
  const params = new URLSearchParams(location.search);
  const office = params.get("office");
  const counter = params.get("counter");
  return office ? { office, counter: counter || null } : null;
}

export function remembered() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
    if (saved && typeof saved.office === "string") {
      const counter = typeof saved.counter === "string" ? saved.counter : null;
      return { office: saved.office, counter };
    }
  } catch {
    // storage disabled or garbled: choose again
  }
  return null;
}

export function remember(office, counter) {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ office, counter }));
  } catch {
    // storage disabled: the address still keeps the choice for this window
  }
  const url = new URL(location.href);
  url.searchParams.set("office", office);
  url.searchParams.set("counter", counter);
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}
