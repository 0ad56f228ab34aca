// Spoken announcements of calls (DESIGN §11): a chime, then the call in each
// configured language.
//
// Every announcement goes through ONE queue, so two never overlap and a
// burst of calls is read in call order. The server's plan (GET
// /api/v1/offices/{office}/announcement) gives the chime and, per language,
// the text and a synthesised audio file; a language without audio, audio
// that fails, or no plan at all (server without the endpoint) falls back to
// the browser's speech synthesis with texts from this display's catalog.
//
// Each step is written to the announcement log (#announce-log) in the
// order it happened, so staff (and the tests) can see what was said.

import { ApiError, enc, fetchJson } from "/static/queue/common/api.js";
import { t, SPEECH_LANG } from "./i18n.js";

const LOG_LIMIT = 300;
// A plan the server could not give (404: the endpoint is not deployed) is
// not asked for again for a while: each refusal is a console error on a TV.
const MISSING_PLAN_RETRY_MS = 10 * 60_000;
const QUIET_FACTOR = 0.3;
const PLAN_TIMEOUT_MS = 15_000;

// How a ticket letter is read aloud where the voice would otherwise say it
// wrongly or in English (Japanese and Korean voices).
const LETTER_READINGS = {
  "ja": {
    A: "エー", B: "ビー", C: "シー", D: "ディー", E: "イー", F: "エフ", G: "ジー",
    H: "エイチ", I: "アイ", J: "ジェー", K: "ケー", L: "エル", M: "エム", N: "エヌ",
    O: "オー", P: "ピー", Q: "キュー", R: "アール", S: "エス", T: "ティー", U: "ユー",
    V: "ブイ", W: "ダブリュー", X: "エックス", Y: "ワイ", Z: "ゼット",
  },
  "ko": {
    A: "에이", B: "비", C: "씨", D: "디", E: "이", F: "에프", G: "지", H: "에이치",
    I: "아이", J: "제이", K: "케이", L: "엘", M: "엠", N: "엔", O: "오", P: "피",
    Q: "큐", R: "알", S: "에스", T: "티", U: "유", V: "브이", W: "더블유", X: "엑스",
    Y: "와이", Z: "제트",
  },
};

// "A-023" -> {letter: "A", n: 23}; null for any other shape.
export function parseNumber(number) {
  const m = /^([A-Z])-?0*(\d{1,4})$/.exec(String(number || ""));
  return m ? { letter: m[1], n: Number(m[2]) } : null;
}

// The counter as it is read aloud in `lang`: its authored reading, its name
// in that language, or the catalog's "counter N" (never another language's
// name in this language's voice, except Japanese as the last resort).
function counterSpeech(counter, lang) {
  if (counter) {
    const speech = counter.speech || {};
    const names = counter.names || {};
    if (speech[lang]) return speech[lang];
    if (names[lang]) return names[lang];
    if (lang !== "ja" && /^\d+$/.test(counter.id)) {
      return t("announce.counter_fallback", { id: counter.id }, lang);
    }
    return speech.ja || names.ja || counter.id;
  }
  return "";
}

// The browser-side plan: texts from this display's catalog, no audio.
export function fallbackItems(call, languages, counter) {
  const parsed = parseNumber(call.number);
  return languages.map((lang) => {
    const counterText = counterSpeech(counter, lang) || call.counterName || call.counterId;
    let text;
    if (parsed) {
      const letter = (LETTER_READINGS[lang] || {})[parsed.letter] || parsed.letter;
      const key = call.recall ? "announce.recall" : "announce.call";
      text = t(key, { letter, n: parsed.n, counter: counterText }, lang);
    } else {
      text = t(call.recall ? "announce.recall_number" : "announce.call_number",
        { number: call.number, counter: counterText }, lang);
    }
    return { lang, text, audio: null };
  });
}

function validPlan(data) {
  return data && typeof data === "object" && Array.isArray(data.items)
    && data.items.every((i) => i && typeof i.lang === "string" && typeof i.text === "string");
}

// Same-origin paths only: the plan names files of this server.
function localUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, location.origin);
    return parsed.origin === location.origin ? parsed.pathname + parsed.search : null;
  } catch {
    return null;
  }
}

export class Announcer {
  constructor({ office, log, onBlocked }) {
    this.office = office;
    this.logList = log;
    this.onBlocked = onBlocked;
    this.queue = [];
    this.running = false;
    this.seq = 0;
    this.volume = 1;
    this.mode = "on"; // on | quiet | off
    this.languages = ["ja"];
    this.counters = new Map();
    this.planMissingUntil = 0;
    this.audioContext = null;
  }

  configure({ languages, volume, counters }) {
    if (Array.isArray(languages) && languages.length) this.languages = languages;
    if (typeof volume === "number") this.volume = Math.max(0, Math.min(1, volume));
    if (counters) this.counters = new Map(counters.map((c) => [c.id, c]));
  }

  setMode(mode) {
    this.mode = mode;
  }

  level() {
    if (this.mode === "off") return 0;
    return this.mode === "quiet" ? this.volume * QUIET_FACTOR : this.volume;
  }

  // Whether the browser refuses sound until someone touches the page. Asked
  // at start-up, before anything could count as a user gesture: a new audio
  // context starts "suspended" exactly when autoplay is refused (a kiosk TV
  // runs with --autoplay-policy=no-user-gesture-required and starts "running").
  refusedAtStart() {
    const ctx = this.context();
    return Boolean(ctx) && ctx.state === "suspended";
  }

  // Called from a click: the user's gesture unlocks audio for the page.
  unlock() {
    const ctx = this.context();
    if (ctx && ctx.state !== "running") ctx.resume().catch(() => {});
  }

  context() {
    if (this.audioContext === null) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      this.audioContext = Ctx ? new Ctx() : false;
    }
    return this.audioContext || null;
  }

  // Queue a call: {number, counterId, counterName, service, recall}. The
  // plan is asked for now (a burst fetches in parallel) and spoken in turn.
  enqueue(call) {
    const item = { ...call, seq: ++this.seq };
    item.plan = this.mode === "off" ? Promise.resolve(null) : this.fetchPlan(item);
    this.queue.push(item);
    this.log("queued", item);
    if (!this.running) this.run();
  }

  async run() {
    this.running = true;
    try {
      while (this.queue.length) {
        const item = this.queue.shift();
        try {
          await this.announce(item);
        } catch (err) {
          // One bad announcement must not stop the queue.
          this.log("end", item, { result: "error" });
          console.warn("announcement failed", err);
        }
      }
    } finally {
      this.running = false;
      document.body.removeAttribute("data-announcing");
    }
  }

  async fetchPlan(call) {
    if (Date.now() < this.planMissingUntil) return null;
    const url = `/api/v1/offices/${enc(this.office)}/announcement?number=${enc(call.number)}`
      + `&counter=${enc(call.counterId)}&recall=${call.recall ? 1 : 0}`;
    // The server waits up to ~10 s for its synthesis; a plan later than
    // this is not waited for (the queue would stall behind it).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), PLAN_TIMEOUT_MS);
    try {
      const data = await fetchJson(url, { signal: abort.signal });
      return validPlan(data) ? data : null;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.code === "not_found") {
        this.planMissingUntil = Date.now() + MISSING_PLAN_RETRY_MS;
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  async announce(item) {
    document.body.dataset.announcing = item.number;
    this.log("start", item);
    if (this.mode === "off") {
      this.log("end", item, { result: "muted" });
      return;
    }
    const plan = await item.plan;
    const counter = this.counters.get(item.counterId);
    const fallback = fallbackItems(item, this.languages, counter);
    const items = plan ? plan.items : fallback;
    this.log("plan", item, { source: plan ? "server" : "browser" });

    const chimeUrl = plan ? localUrl(plan.chime) : null;
    let chime = chimeUrl ? await this.playUrl(chimeUrl) : "none";
    let chimeMode = "audio";
    if (chime !== "ok" && chime !== "blocked") {
      chime = await this.synthChime();
      chimeMode = "synth";
    }
    this.log("chime", item, { mode: chimeMode, result: chime, level: this.level() });

    for (const spoken of items) {
      const audio = localUrl(spoken.audio);
      let result = audio ? await this.playUrl(audio) : "none";
      let mode = "audio";
      if (result !== "ok" && result !== "blocked") {
        // No or failed server audio: the browser's voice, with the plan's text.
        result = await this.speak(spoken.text, spoken.lang);
        mode = "speech";
      }
      this.log("item", item, { lang: spoken.lang, mode, result, text: spoken.text });
    }
    this.log("end", item, { result: "ok" });
  }

  blocked() {
    if (this.onBlocked) this.onBlocked();
  }

  playUrl(url) {
    return new Promise((resolve) => {
      const audio = new Audio();
      audio.preload = "auto";
      audio.volume = this.level();
      let done = false;
      let guard = null;
      const finish = (result) => {
        if (done) return;
        done = true;
        clearTimeout(guard);
        audio.pause();
        audio.removeAttribute("src");
        audio.load(); // releases the media pipeline (a TV runs for weeks)
        if (result === "blocked") this.blocked();
        resolve(result);
      };
      // A stalled download or a decoder that never says "ended" must not
      // hold the queue forever: the length of the file plus a margin.
      guard = setTimeout(() => finish("timeout"), 30_000);
      audio.addEventListener("loadedmetadata", () => {
        if (Number.isFinite(audio.duration)) {
          clearTimeout(guard);
          guard = setTimeout(() => finish("timeout"), audio.duration * 1000 + 3000);
        }
      });
      audio.addEventListener("ended", () => finish("ok"));
      audio.addEventListener("error", () => finish("error"));
      audio.src = url;
      const played = audio.play();
      if (played) {
        played.catch((err) => finish(err && err.name === "NotAllowedError" ? "blocked" : "error"));
      }
    });
  }

  // A two-tone chime made with Web Audio, for when the server has none.
  synthChime() {
    const ctx = this.context();
    if (!ctx) return Promise.resolve("unsupported");
    if (ctx.state !== "running") {
      this.blocked();
      return Promise.resolve("blocked");
    }
    return new Promise((resolve) => {
      const gain = ctx.createGain();
      gain.connect(ctx.destination);
      const start = ctx.currentTime + 0.05;
      const level = 0.4 * this.level();
      let last = null;
      [[880, 0], [698.5, 0.55]].forEach(([freq, offset]) => {
        const osc = ctx.createOscillator();
        const env = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        env.gain.setValueAtTime(0, start + offset);
        env.gain.linearRampToValueAtTime(level, start + offset + 0.02);
        env.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.9);
        osc.connect(env);
        env.connect(gain);
        osc.start(start + offset);
        osc.stop(start + offset + 0.95);
        last = osc;
      });
      const guard = setTimeout(() => resolve("timeout"), 3000);
      last.addEventListener("ended", () => {
        clearTimeout(guard);
        gain.disconnect();
        resolve("ok");
      });
    });
  }

  speak(text, lang) {
    if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") {
      return Promise.resolve("unsupported");
    }
    return new Promise((resolve) => {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = SPEECH_LANG[lang] || lang;
      utterance.volume = this.level();
      utterance.rate = 0.9; // a lobby is noisy and many listeners are not native
      const voice = speechSynthesis.getVoices().find((v) => v.lang === utterance.lang)
        || speechSynthesis.getVoices().find((v) => v.lang.startsWith(lang.slice(0, 2)));
      if (voice) utterance.voice = voice;
      let done = false;
      const finish = (result) => {
        if (done) return;
        done = true;
        clearTimeout(guard);
        if (result === "blocked") this.blocked();
        resolve(result);
      };
      // Some engines never fire "end": a generous estimate of the length.
      const guard = setTimeout(() => {
        speechSynthesis.cancel();
        finish("timeout");
      }, Math.min(30_000, 3000 + 200 * text.length));
      utterance.addEventListener("end", () => finish("ok"));
      utterance.addEventListener("error", (event) => {
        finish(event.error === "not-allowed" ? "blocked" : "error:" + event.error);
      });
      speechSynthesis.speak(utterance);
    });
  }

  log(event, item, extra = {}) {
    const entry = document.createElement("li");
    entry.dataset.event = event;
    entry.dataset.seq = String(item.seq);
    entry.dataset.number = item.number;
    entry.dataset.counter = item.counterId || "";
    entry.dataset.recall = item.recall ? "1" : "0";
    entry.dataset.t = String(Math.round(performance.now()));
    for (const [key, value] of Object.entries(extra)) {
      if (key !== "text") entry.dataset[key] = String(value);
    }
    entry.textContent = [event, item.number, item.counterId, extra.lang, extra.mode, extra.result,
      extra.text].filter((v) => v !== undefined && v !== "").join(" ");
    this.logList.append(entry);
    while (this.logList.childElementCount > LOG_LIMIT) this.logList.firstElementChild.remove();
  }
}
