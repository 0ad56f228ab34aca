// Sound and vibration when the ticket is called. Browsers allow both only
// after the user has tapped the page, so `unlock()` runs in the click handler
// of the "tap to turn on" button; the chime is synthesised (Web Audio), so
// there is no audio file to fetch and nothing from elsewhere.

let audio = null;

export function unlock() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return false;
  try {
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
    return true;
  } catch {
    return false;
  }
}

export function soundOn() {
  return Boolean(audio) && audio.state !== "closed";
}

// Three rising tones (the lobby's chime is on the display; this one is short
// and distinct), each with a soft attack and release so it does not click.
export function chime() {
  if (!soundOn()) return false;
  const start = audio.currentTime + 0.05;
  [660, 880, 1175].forEach((freq, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const at = start + i * 0.28;
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.5, at + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.5);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.55);
  });
  return true;
}

// Vibrates only once the page has been tapped: before that, Chrome refuses
// and complains on the console.
export function vibrate(pattern) {
  if (typeof navigator.vibrate !== "function") return false;
  const activation = navigator.userActivation;
  if (activation && !activation.hasBeenActive) return false;
  try {
    return navigator.vibrate(pattern);
  } catch {
    return false;
  }
}
