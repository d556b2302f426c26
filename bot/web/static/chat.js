// The demo's web chat: one window per person played, kept up to date by server-sent events.
// Labels come from /api/labels (the catalogs); nothing here is fetched from outside this server.
"use strict";

let L = {};
const open = new Map(); // persona key -> {section, source, signatures}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function say(words) {
  const status = document.getElementById("status");
  status.textContent = words || "";
}

async function call(url, options = {}) {
  const answer = await fetch(url, options);
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(body.text || L.failed);
  return body;
}

function post(url, body) {
  return call(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}

// Telegram's entities (UTF-16 offsets, as JavaScript strings count) drawn as safe elements.
function richText(text, entities) {
  const box = el("div", {class: "text"});
  const cuts = new Set([0, text.length]);
  for (const e of entities) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [start, end] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    for (const e of entities) {
      if (e.offset > start || e.offset + e.length < end) continue;
      const tag = {bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "code"}[e.type];
      let wrapper = null;
      if (tag) wrapper = el(tag);
      else if ((e.type === "text_link" || e.type === "url")) {
        const href = e.type === "url" ? text.slice(e.offset, e.offset + e.length) : e.url;
        if (/^https?:\/\//.test(href)) wrapper = el("a", {href, target: "_blank", rel: "noopener"});
      }
      if (wrapper) { wrapper.append(node); node = wrapper; }
    }
    box.append(node);
  }
  return box;
}

function buttonRows(rows, press) {
  return rows.map((row) => el("div", {class: "row"}, ...row.map((button) => button.url
    ? el("a", {class: "button", href: button.url, target: "_blank", rel: "noopener", text: button.label})
    : el("button", {type: "button", "data-index": button.index, text: button.label,
      onclick: () => press(button.index)}))));
}

function drawMessage(key, message) {
  const mine = message.from === "me";
  const item = el("li", {class: `message ${mine ? "me" : "bot"}`, "data-id": message.id, tabindex: "-1",
    "aria-label": mine ? L.you : L.assistant});
  if (message.file && message.kind === "photo") {
    item.append(el("a", {href: message.file.url, target: "_blank", rel: "noopener"},
      el("img", {src: message.file.url, alt: message.text || L.image, class: "chart"})));
  }
  if (mine && message.kind === "contact") item.append(el("div", {class: "text", text: `${L.contact}: ${message.text}`}));
  else if (mine && message.kind !== "text") {
    item.append(el("div", {class: "text", text: `${L[message.kind]} ${message.text}`.trim()}));
  } else if (message.text) item.append(richText(message.text, message.entities || []));
  if (message.file && message.kind === "document") {
    item.append(el("a", {class: "button download", href: message.file.url, download: message.file.name,
      text: `⬇️ ${L.download}: ${message.file.name}`}));
  }
  if (message.link) item.append(el("a", {href: message.link, target: "_blank", rel: "noopener", text: message.link}));
  if (message.edits) item.append(el("span", {class: "edited", text: `(${L.edited})`}));
  if (message.buttons && message.buttons.length) {
    item.append(el("div", {class: "buttons", role: "group", "aria-label": L.buttons},
      ...buttonRows(message.buttons, (index) => act(key, "press", {message_id: message.id, button: index}))));
  }
  return item;
}

function apply(key, view) {
  const chatWindow = open.get(key);
  if (!chatWindow) return;
  const list = chatWindow.section.querySelector(".messages");
  const seen = new Set();
  const focused = document.activeElement;
  let added = false;
  for (const message of view.messages) {
    seen.add(message.id);
    const signature = JSON.stringify(message);
    const old = list.querySelector(`li[data-id="${CSS.escape(message.id)}"]`);
    if (old && old.dataset.signature === signature) continue;
    const item = drawMessage(key, message);
    item.dataset.signature = signature;
    if (old) {
      const hadFocus = old.contains(focused);
      old.replaceWith(item);
      if (hadFocus) (item.querySelector("button") || item).focus();
    } else { list.append(item); added = true; }
  }
  for (const item of [...list.children]) if (item.dataset.id && !seen.has(item.dataset.id)) item.remove();
  const empty = list.querySelector(".empty");
  if (view.messages.length && empty) empty.remove();
  if (added) list.scrollTop = list.scrollHeight;
  const keyboard = chatWindow.section.querySelector(".keyboard");
  const keySignature = JSON.stringify(view.keyboard);
  if (keyboard.dataset.signature !== keySignature) {
    keyboard.dataset.signature = keySignature;
    keyboard.replaceChildren(...buttonRows(view.keyboard, (index) => act(key, "key", {button: index})));
  }
  const commands = chatWindow.section.querySelector(".commands");
  if (commands) {
    commands.replaceChildren(...view.commands.map((c) => el("li", {}, el("button", {type: "button",
      onclick: () => {
        commands.hidden = true;
        chatWindow.section.querySelector(".menu").setAttribute("aria-expanded", "false");
        send(key, `/${c.command}`);
      }},
      `/${c.command} `, el("span", {class: "description", text: `— ${c.description}`})))));
  }
}

async function act(key, what, body) {
  const chatWindow = open.get(key);
  say(L.waiting);
  chatWindow.section.setAttribute("aria-busy", "true");
  try {
    apply(key, await post(`/api/windows/${key}/${what}`, body));
    say("");
  } catch (error) {
    say(error.message);
  } finally {
    chatWindow.section.removeAttribute("aria-busy");
  }
}

function send(key, text) {
  return act(key, "text", {text});
}

async function attach(key, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  say(L.waiting);
  try {
    apply(key, await call(`/api/windows/${key}/attach`, {method: "POST", body: form}));
    say("");
  } catch (error) { say(error.message); }
}

function drawWindow(info) {
  const key = info.key;
  const titleId = `window-${key}-title`;
  const input = el("textarea", {id: `input-${key}`, name: "text", rows: "2", placeholder: L.placeholder});
  const form = el("form", {class: "compose"});
  form.append(el("label", {for: input.id, class: "visually-hidden", text: L.message}), input);
  let commands = null;
  if (info.channel === "telegram") {
    commands = el("ul", {class: "commands", id: `commands-${key}`, "aria-label": L.commands, hidden: true});
    const menu = el("button", {type: "button", class: "menu", "aria-controls": commands.id, "aria-expanded": "false",
      text: `☰ ${L.commands}`, onclick: () => {
        commands.hidden = !commands.hidden;
        menu.setAttribute("aria-expanded", String(!commands.hidden));
        if (!commands.hidden) commands.querySelector("button")?.focus();
      }});
    commands.addEventListener("keydown", (event) => { // Escape closes the menu, back on its button
      if (event.key !== "Escape") return;
      commands.hidden = true;
      menu.setAttribute("aria-expanded", "false");
      menu.focus();
    });
    form.append(menu);
  }
  if (info.contact) {
    form.append(el("button", {type: "button", class: "share", text: `📱 ${L.share}`, onclick: () => act(key, "contact", {})}));
  }
  if (info.attach) {
    const file = el("input", {type: "file", id: `file-${key}`, class: "visually-hidden",
      onchange: (event) => { const chosen = event.target.files[0]; if (chosen) attach(key, chosen); event.target.value = ""; }});
    form.append(file, el("label", {for: file.id, class: "button attach", tabindex: "0", role: "button", text: `📎 ${L.attach}`,
      onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); file.click(); } }}));
  }
  form.append(el("button", {type: "submit", class: "send primary", text: L.send}));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = input.value.trim();
    if (!typed) return;
    input.value = "";
    send(key, typed);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  const badge = el("span", {class: `badge ${info.channel}`, text: L[info.channel]});
  const section = el("section", {class: "window", "data-key": key, "aria-labelledby": titleId},
    el("header", {}, el("h3", {id: titleId}, info.name, badge),
      el("button", {type: "button", class: "close", "aria-label": `${L.close}: ${info.name}`,
        text: "✕", onclick: () => toggle(info)})),
    info.channel === "zalo" ? el("p", {class: "hint", text: L.zalo_hint}) : null,
    el("ol", {class: "messages", role: "log", "aria-live": "polite", "aria-label": `${L.conversation} (${info.name})`},
      el("li", {class: "empty", text: L.empty})),
    el("div", {class: "keyboard", role: "group", "aria-label": L.keyboard}),
    commands, form);
  return section;
}

function toggle(info) {
  const toggleButton = document.querySelector(`.persona[data-key="${info.key}"]`);
  const existing = open.get(info.key);
  if (existing) {
    existing.source.close();
    existing.section.remove();
    open.delete(info.key);
    toggleButton.setAttribute("aria-pressed", "false");
    toggleButton.focus();
  } else {
    const section = drawWindow(info);
    document.getElementById("windows").append(section);
    const source = new EventSource(`/api/windows/${info.key}/events`);
    source.addEventListener("window", (event) => {
      if (document.getElementById("status").textContent === L.reconnecting) say("");
      apply(info.key, JSON.parse(event.data));
    });
    source.addEventListener("error", () => say(L.reconnecting));
    open.set(info.key, {section, source});
    toggleButton.setAttribute("aria-pressed", "true");
    section.querySelector("textarea").focus();
  }
  document.getElementById("none-open").hidden = open.size > 0;
}

async function travel(by, button) {
  const buttons = document.querySelectorAll("[data-travel]");
  buttons.forEach((b) => b.disabled = true);
  say(L.travelling);
  try {
    const clock = await post("/api/clock", {by});
    document.getElementById("clock-now").textContent = clock.text;
    say(L.travelled.replace("{time}", clock.text));
  } catch (error) { say(error.message); } finally {
    buttons.forEach((b) => b.disabled = false);
    button.focus();
  }
}

async function start() {
  L = await call("/api/labels");
  document.title = L.title;
  document.documentElement.lang = L.language;
  for (const node of document.querySelectorAll("[data-label]")) node.textContent = L[node.dataset.label];
  for (const button of document.querySelectorAll("[data-travel]")) {
    button.addEventListener("click", () => travel(button.dataset.travel, button));
  }
  const showClock = async () => {
    document.getElementById("clock-now").textContent = (await call("/api/clock")).text;
  };
  await showClock();
  setInterval(() => showClock().catch(() => say(L.reconnecting)), 30000); // the demo's clock goes on too
  const list = document.getElementById("personas");
  for (const info of await call("/api/windows")) {
    const [name, ...about] = info.role.split(" — ");
    list.append(el("li", {}, el("button", {type: "button", class: "persona", "data-key": info.key, "aria-pressed": "false",
      onclick: () => toggle(info)}, el("strong", {text: name}), el("span", {class: `badge ${info.channel}`, text: L[info.channel]}),
      el("br"), about.join(" — "))));
  }
}

start();
