// The My Number card read from the kiosk page (書かない).
//
//   import { readCard, CardError } from "./card.js";
//   const person = await readCard({ office, token, pin, consent: true });
//   // person: { name, familyName, givenName, address, birthDate, sex }
//
// The PIN and the card's attributes are end-to-end encrypted between this
// page and the kiosk agent (protocol "madoguchi-card-v1", described in
// checkin/card_agent.py): the page makes a one-off ECDH P-256 key pair,
// derives AES-GCM keys with the agent's public key (HKDF-SHA256) and sends
// only the sealed request; the server relays it and the sealed answer. So
// the PIN is never in clear outside this page and the agent, and the
// attributes only here: keep them in memory for the visit, never in
// localStorage, never in a log.
//
// Failures throw CardError with `code` (and `triesLeft` for wrong_pin and
// last_try_protected): no_consent, invalid_pin, wrong_pin, pin_blocked,
// last_try_protected (one try left: never spent — send the citizen to the
// counter, where the PIN can be reset), no_card, card_removed, unknown_card,
// no_reader, reader_busy, busy, card_agent_offline, card_timeout,
// stale_key (after one automatic retry), network, bad_reply (an answer that
// does not open or holds no card), and the API's own codes.

const PROTOCOL = "madoguchi-card-v1";
// The server waits up to 30 s for the card; a little longer here.
const TIMEOUT_MS = 40_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CardError extends Error {
  constructor(code, { triesLeft = null, status = 0, message = "" } = {}) {
    super(message || code);
    this.name = "CardError";
    this.code = code;
    this.triesLeft = triesLeft;
    this.status = status;
  }
}

export function toBase64(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text);
}

export function fromBase64(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_");
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function additionalData(request) {
  return encoder.encode(`${PROTOCOL}|${request}`);
}

async function call(method, path, token, body) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  const init = {
    method, cache: "no-store", signal: abort.signal,
    headers: { "Accept": "application/json", "Authorization": "Bearer " + token },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  let data = null;
  try {
    response = await fetch("/api/v1" + path, init);
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch (err) {
    throw new CardError("network", { message: String(err && err.message ? err.message : err) });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const details = error.details || {};
    throw new CardError(error.code || "internal", {
      status: response.status, message: error.message || "",
      triesLeft: Number.isInteger(details.tries_left) ? details.tries_left : null,
    });
  }
  return data;
}

// The kiosk agent's current public key: { publicKey, office }.
export async function agentKey(token) {
  const data = await call("GET", "/kiosk/card-key", token);
  if (!data || typeof data.public_key !== "string") throw new CardError("bad_reply");
  return { publicKey: data.public_key, office: data.office };
}

// Is a card reader ready at this kiosk (the agent connected, a reader
// there, pcscd running, the reader not held by another program)? Resolves,
// or throws the CardError saying what is wrong.
export async function readerReady(token) {
  const data = await call("GET", "/kiosk/card-ready", token);
  if (!data || data.ready !== true) throw new CardError("bad_reply");
}

// Seal { pin, consent, request } for the agent. Returns the
// body of POST /kiosk/card-read and the key that opens the answer.
export async function sealRequest(agentPublicKey, { pin, consent, request }) {
  const ecdh = { name: "ECDH", namedCurve: "P-256" };
  const agentPoint = fromBase64(agentPublicKey);
  const agent = await crypto.subtle.importKey("raw", agentPoint, ecdh, false, []);
  // Non-extractable private key, used for this one request only.
  const pair = await crypto.subtle.generateKey(ecdh, false, ["deriveBits"]);
  const pagePoint = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const shared = await crypto.subtle.deriveBits({ name: "ECDH", public: agent },
    pair.privateKey, 256);
  const hkdf = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const salt = concat(pagePoint, agentPoint);
  const derive = (purpose, usage) => crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: encoder.encode(`${PROTOCOL} ${purpose}`) },
    hkdf, { name: "AES-GCM", length: 256 }, false, [usage]);
  const requestKey = await derive("request", "encrypt");
  const replyKey = await derive("reply", "decrypt");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = encoder.encode(JSON.stringify({
    pin, consent, request,
  }));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(request) }, requestKey, plain);
  plain.fill(0); // the PIN's bytes do not wait for the garbage collector
  return {
    body: {
      request, page_public_key: toBase64(pagePoint), iv: toBase64(iv),
      ciphertext: toBase64(sealed),
    },
    replyKey,
  };
}

// Open the agent's sealed answer: the card's attributes.
export async function openReply(replyKey, request, answer) {
  let card;
  let plain = null;
  try {
    plain = new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(answer.iv), additionalData: additionalData(request) },
      replyKey, fromBase64(answer.ciphertext)));
    const data = JSON.parse(decoder.decode(plain));
    if (!data || data.request !== request) throw new Error("answer to another request");
    card = data.card;
    if (!card || typeof card !== "object" || typeof card.name !== "string") {
      throw new Error("no card in the answer");
    }
  } catch (err) {
    throw new CardError("bad_reply", { message: String(err && err.message ? err.message : err) });
  } finally {
    if (plain) plain.fill(0); // the card's bytes do not wait for the garbage collector
  }
  return {
    name: card.name, familyName: card.family_name, givenName: card.given_name,
    address: card.address, birthDate: card.birth_date, sex: card.sex,
  };
}

// Read the card on this kiosk's reader. `consent`: the citizen agreed on
// screen (nothing is sent without it).
export async function readCard({ office, token, pin, consent }) {
  if (consent !== true) throw new CardError("no_consent");
  if (typeof pin !== "string" || !/^[0-9]{4}$/.test(pin)) throw new CardError("invalid_pin");
  for (let attempt = 0; ; attempt += 1) {
    const key = await agentKey(token);
    if (office && key.office !== office) {
      throw new CardError("wrong_office", { message: "this kiosk token is for another office" });
    }
    const request = randomId();
    const { body, replyKey } = await sealRequest(key.publicKey,
      { pin, consent, request });
    let answer;
    try {
      answer = await call("POST", "/kiosk/card-read", token, body);
    } catch (err) {
      // The agent reconnected (new key) since we fetched it: once more.
      if (err.code === "stale_key" && attempt === 0) continue;
      throw err;
    }
    if (!answer || answer.request !== request) throw new CardError("bad_reply");
    return openReply(replyKey, request, answer);
  }
}
