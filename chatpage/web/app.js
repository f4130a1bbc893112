// The sandbox chat page: a view of the fake Telegram's record of one seller's chat, updated by
// server-sent events, and a few buttons that call the page's API. No framework, no build step.
"use strict";

const $ = (sel) => document.querySelector(sel);

// el builds an element: el("div", {class: "x"}, child, "text", ...).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

let sellers = [];
let current = null;  // the seller being played
let stream = null;   // the EventSource of their chat
let lastToast = -1;  // the newest callback answer already shown; -1 before the first view
let actionTimer = 0;
let stick = true;    // the chat follows new messages while the person is at its bottom
const rows = new Map(); // message id → {sig, el}

async function api(path, body, isForm) {
  const opts = { method: "POST" };
  if (isForm) opts.body = body;
  else if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers = { "Content-Type": "application/json" };
  }
  let resp;
  try {
    resp = await fetch(`/api/chats/${current.id}/${path}`, opts);
  } catch (e) {
    toast("The sandbox does not answer: is `neurocards sandbox --web` still running?", true);
    return null;
  }
  let answer = null;
  if (resp.status !== 204) answer = await resp.json().catch(() => null);
  if (!resp.ok) {
    toast((answer && answer.error) || `${resp.status} ${resp.statusText}`, true);
    return null;
  }
  return answer || {};
}

// Sellers.

async function init() {
  sellers = await (await fetch("/api/sellers")).json();
  const list = $("#seller-list");
  for (const s of sellers) {
    list.append(el("li", { "data-seller": s.id, onclick: () => select(s.id) },
      el("div", { class: "avatar" }, s.name.slice(0, 1)),
      el("div", {}, el("div", {}, s.name), el("div", { class: "lang" }, `id ${s.id} · ${s.lang}`))));
  }
  const wanted = Number(location.hash.replace("#seller-", ""));
  select(sellers.some((s) => s.id === wanted) ? wanted : sellers[0].id);
}

function select(id) {
  current = sellers.find((s) => s.id === id);
  history.replaceState(null, "", `#seller-${id}`);
  for (const li of document.querySelectorAll("#seller-list li")) {
    li.classList.toggle("current", Number(li.dataset.seller) === id);
  }
  $("#chat-seller").textContent = `you are ${current.name} (${current.lang})`;
  rows.clear();
  $("#messages").textContent = "";
  stick = true;
  lastToast = -1;
  if (stream) stream.close();
  stream = new EventSource(`/api/chats/${id}/events`);
  stream.onmessage = (e) => render(JSON.parse(e.data));
}

// Rendering a view.

function render(v) {
  if (!current || v.seller.id !== current.id) return;
  renderMessages(v.messages);
  renderMenu(v.commands);
  renderAccount(v.account);
  renderBot(v.bot);
  renderFaults(v.faults);
  renderActivity(v.activity);
  renderToasts(v.toasts);
  renderAction(v.action);
}

function renderMessages(messages) {
  const box = $("#messages");
  const seen = new Set();
  let prev = null;
  for (const m of messages) {
    seen.add(m.id);
    const sig = JSON.stringify(m);
    const have = rows.get(m.id);
    if (have && have.sig === sig) {
      prev = have.el;
      continue;
    }
    const node = messageEl(m);
    if (have) {
      // A video keeps playing through an edit of its caption or keyboard.
      const oldMedia = have.el.querySelector(".media");
      const newMedia = node.querySelector(".media");
      if (oldMedia && newMedia && oldMedia.dataset.src === newMedia.dataset.src) {
        newMedia.replaceWith(oldMedia);
      }
      have.el.replaceWith(node);
    } else {
      if (prev) prev.after(node);
      else box.prepend(node);
    }
    rows.set(m.id, { sig, el: node });
    prev = node;
  }
  for (const [id, r] of rows) {
    if (!seen.has(id)) {
      r.el.remove();
      rows.delete(id);
    }
  }
  followBottom();
}

// followBottom keeps the newest message in sight, also when a photo or video loads and grows.
function followBottom() {
  if (!stick) return;
  const box = $("#messages");
  box.scrollTop = box.scrollHeight;
}

$("#messages").addEventListener("scroll", (e) => {
  const box = e.target;
  stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
});

function messageEl(m) {
  if (m.service || m.payment) {
    return el("div", { class: "row service", "data-id": m.id }, el("div", { class: "pill" }, paymentText(m)));
  }
  const row = el("div", { class: `row ${m.from_bot ? "in" : "out"}`, "data-id": m.id });
  const bubble = el("div", { class: "bubble" });
  if (m.media) {
    bubble.append(mediaEl(m.media));
    if (m.media.kind !== "document") bubble.classList.add("with-media");
  }
  if (m.invoice) {
    bubble.classList.add("invoice");
    bubble.append(
      el("div", { class: "title" }, m.invoice.title),
      el("div", { class: "text" }, m.invoice.description),
      el("div", { class: "price" }, money(m.invoice.amount, m.invoice.currency)));
  }
  const body = m.text || m.caption;
  if (body) bubble.append(el("div", { class: "text" }, body));
  bubble.append(el("span", { class: "meta" }, (m.edited ? "edited " : "") + m.time));
  row.append(bubble);
  const kb = keyboardEl(m);
  if (kb) row.append(kb);
  return row;
}

function paymentText(m) {
  const p = m.payment;
  if (!p) return m.text || "";
  if (p.refunded) return `NeuroCards refunded ${money(p.amount, p.currency)}`;
  return `You paid ${money(p.amount, p.currency)} to NeuroCards`;
}

function money(amount, currency) {
  return currency === "XTR" ? `⭐ ${amount}` : `${amount} ${currency}`;
}

function mediaEl(f) {
  switch (f.kind) {
    case "video": {
      // As in Telegram: the first frame, its length, and a play button; the controls come with playing.
      const length = el("span", { class: "badge" }, "video");
      const video = el("video", {
        src: f.url, playsinline: true, preload: "auto", loop: true,
        onloadedmetadata: () => { length.textContent = clock(video.duration); followBottom(); },
      });
      const play = el("button", {
        class: "play", title: "Play", onclick: () => { video.controls = true; video.play(); play.remove(); },
      }, "▶");
      return el("div", { class: "media video", "data-src": f.url }, video, length, play);
    }
    case "photo":
      return el("img", { class: "media", src: f.url, "data-src": f.url, alt: "photo", onload: followBottom, onclick: () => window.open(f.url, "_blank") });
    default:
      return el("a", { class: "file", href: f.url, download: f.name || "file" },
        el("span", { class: "icon" }, "📄"),
        el("span", {}, el("div", {}, f.name || "file"), el("div", { class: "size" }, size(f.size))));
  }
}

function clock(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

function keyboardEl(m) {
  const rowsOut = [];
  if (m.invoice) {
    // Telegram puts the Pay button under an invoice sent without a keyboard.
    rowsOut.push(el("div", { class: "kbrow" }, m.invoice.paid
      ? el("button", { class: "paid", disabled: true }, "Paid ✓")
      : el("button", { class: "pay", onclick: (e) => pay(m.id, e.target) }, `Pay ${money(m.invoice.amount, m.invoice.currency)}`)));
  }
  for (const r of m.buttons || []) {
    rowsOut.push(el("div", { class: "kbrow" }, ...r.map((b) => b.url
      ? el("a", { href: b.url, target: "_blank", rel: "noopener" }, b.text + " ↗")
      : el("button", { "data-data": b.data, onclick: (e) => tap(m.id, b.data, e.target) }, b.text))));
  }
  if (!rowsOut.length) return null;
  return el("div", { class: "keyboard" }, ...rowsOut);
}

let menuSig = "";

function renderMenu(commands) {
  // Rebuilt only when the bot changes its commands, so a filter being typed survives updates.
  const sig = JSON.stringify(commands);
  if (sig === menuSig) return;
  menuSig = sig;
  const menu = $("#menu");
  menu.textContent = "";
  for (const c of commands) {
    menu.append(el("button", { type: "button", "data-command": c.command, onclick: () => { hideMenu(); sendText(c.command); } },
      el("span", { class: "cmd" }, c.command), el("span", { class: "desc" }, c.description)));
  }
  $("#menu-button").hidden = commands.length === 0;
}

function renderAccount(a) {
  const body = $("#ledger tbody");
  body.textContent = "";
  if (!a) {
    $("#balance").textContent = "—";
    $("#held").textContent = "The seller has not talked to the bot yet.";
    return;
  }
  $("#balance").textContent = a.balance;
  $("#held").textContent = `held by jobs in flight ${a.held} · available ${a.available}` + (a.blocked ? " · marked blocked" : "");
  for (const r of a.ledger) {
    body.append(el("tr", {},
      el("td", { class: "muted" }, r.time),
      el("td", {}, r.type + (r.job ? ` · job ${r.job}` : "")),
      el("td", { class: `n ${r.amount > 0 ? "plus" : r.amount < 0 ? "minus" : ""}` }, r.amount ? signed(r.amount) : ""),
      el("td", { class: "n muted" }, r.held ? `held ${signed(r.held)}` : "")));
  }
}

function signed(n) { return n > 0 ? `+${n}` : `${n}`; }

function renderBot(b) {
  const state = $("#bot-state");
  state.textContent = b.state;
  state.className = `state-${b.state}`;
  for (const [id, v] of [["#kie-breaker", b.kie_breaker], ["#tg-breaker", b.telegram_breaker]]) {
    $(id).textContent = v || "—";
    $(id).className = v ? `state-${v.replace(/[^a-z]/g, "")}` : "";
  }
  $("#kie-tasks").textContent = b.kie_tasks;
  const err = $("#bot-error");
  err.hidden = !b.error;
  err.textContent = b.error || "";
  $("#restart").disabled = b.state === "restarting";
  $("#restart").textContent = b.state === "restarting" ? "Restarting…" : "Restart the bot";
  const link = $("#console-link");
  if (b.admin_url) {
    if (link.dataset.url !== b.admin_url) {
      link.dataset.url = b.admin_url;
      link.className = "";
      link.replaceChildren(el("a", { href: b.admin_url, target: "_blank", rel: "noopener" }, b.admin_url + " ↗"));
    }
  } else if (link.dataset.url !== "") {
    link.dataset.url = "";
    link.className = "muted";
    link.textContent = "Appears here once the bot's admin server answers.";
  }
}

function renderFaults(f) {
  const kie = $("#kie-toggle");
  kie.dataset.fault = f.kie_down ? "kie-up" : "kie-down";
  kie.textContent = f.kie_down ? "KIE is down — bring it back" : "KIE goes down";
  kie.classList.toggle("on", f.kie_down);
  const block = $("#block-toggle");
  block.dataset.fault = f.blocked ? "unblock" : "block";
  block.textContent = f.blocked ? "The seller blocks the bot — unblock" : "The seller blocks the bot";
  block.classList.toggle("on", f.blocked);
  $("#kie-queue").textContent = f.kie_failing.length ? `Next KIE tasks fail: ${f.kie_failing.join(", ")}` : "";
}

function renderActivity(items) {
  const list = $("#activity");
  list.textContent = "";
  for (const a of items || []) {
    list.append(el("li", { class: a.error ? "error" : "" }, el("span", { class: "t" }, a.time), a.text));
  }
  if (!items || !items.length) list.append(el("li", { class: "muted" }, "Nothing yet."));
}

function renderToasts(ts) {
  const newest = ts.length ? ts[ts.length - 1].id : 0;
  if (lastToast >= 0) for (const t of ts) if (t.id > lastToast) toast(t.text, false);
  lastToast = Math.max(lastToast, newest);
}

const actionWords = {
  typing: "typing…", upload_video: "sending a video…", record_video: "recording a video…",
  upload_photo: "sending a photo…", upload_document: "sending a file…",
};

function renderAction(a) {
  const status = $("#bot-status");
  clearTimeout(actionTimer);
  const left = a ? 5000 - (Date.now() - a.at) : 0;
  if (left > 0) {
    status.textContent = actionWords[a.action] || a.action.replace(/_/g, " ") + "…";
    status.classList.add("active");
    actionTimer = setTimeout(() => renderAction(null), left);
  } else {
    status.textContent = "bot";
    status.classList.remove("active");
  }
}

function toast(text, isError) {
  const t = el("div", { class: `toast${isError ? " error" : ""}` }, text);
  $("#toasts").append(t);
  setTimeout(() => t.remove(), isError ? 6000 : 3000);
}

// What the person does.

// sendText sends a message; it reports false when the page refused it.
async function sendText(text) {
  if (!text.trim()) return true;
  return (await api("text", { text })) !== null;
}

async function tap(id, data, button) {
  button.disabled = true;
  await api("tap", { message_id: id, data });
  button.disabled = false;
}

async function pay(id, button) {
  button.disabled = true;
  button.textContent = "Paying…";
  const answer = await api("pay", { message_id: id });
  if (answer && answer.declined) toast(answer.declined, true);
  button.disabled = false;
}

function hideMenu() { $("#menu").hidden = true; }

$("#composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const box = $("#text");
  const text = box.value;
  box.value = "";
  grow(box);
  hideMenu();
  // A message the page refused goes back into the box, so nothing typed is lost.
  if (!(await sendText(text)) && box.value === "") {
    box.value = text;
    grow(box);
  }
});

$("#text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("#composer").requestSubmit();
  }
});

$("#text").addEventListener("input", (e) => {
  grow(e.target);
  // Typing "/" at the start opens the command menu, filtered as you type.
  const v = e.target.value;
  const menu = $("#menu");
  const showing = v.startsWith("/") && !v.includes(" ");
  menu.hidden = !showing;
  for (const b of menu.querySelectorAll("button")) b.hidden = showing && !b.dataset.command.startsWith(v);
});

function grow(box) {
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight}px`;
}

$("#menu-button").addEventListener("click", () => {
  const menu = $("#menu");
  for (const b of menu.querySelectorAll("button")) b.hidden = false;
  menu.hidden = !menu.hidden;
});

$("#attach").addEventListener("click", () => $("#file").click());

$("#file").addEventListener("change", async (e) => {
  const f = e.target.files[0];
  e.target.value = "";
  if (!f) return;
  const form = new FormData();
  form.append("file", f);
  await api("photo", form, true);
});

$("#sample").addEventListener("click", () => api("sample-photo"));

for (const b of document.querySelectorAll("[data-fault]")) {
  b.addEventListener("click", () => api(`faults/${b.dataset.fault}`));
}

init();
