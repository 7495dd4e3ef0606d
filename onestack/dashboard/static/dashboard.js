// The dashboard's only script.  Pages work without it (every action is a plain form post); with it,
// parts marked data-poll refresh themselves, forms marked data-confirm ask first, and selects marked
// data-autosubmit submit their form.  No inline script anywhere: the Content-Security-Policy forbids it.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("submit", (event) => {
  const question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) {
    event.target.form.requestSubmit();
  }
});

// Fill a form field from the chosen template option (the security group rule editor's SSH/HTTP/ICMP).
document.addEventListener("change", (event) => {
  const option = event.target.selectedOptions && event.target.selectedOptions[0];
  if (!event.target.matches("[data-fills]") || !option) {
    return;
  }
  for (const [name, value] of Object.entries(JSON.parse(option.getAttribute("data-values") || "{}"))) {
    const field = event.target.form.elements[name];
    if (field) {
      field.value = value;
    }
  }
});

async function refresh(element) {
  // not while the user is using something inside: an open menu or a field would be swept away
  const busy = element.querySelector("details[open]") ||
    element.contains(document.activeElement) && document.activeElement.matches("select, input, textarea");
  if (document.hidden || busy) {
    return;
  }
  let response;
  try {
    response = await fetch(element.getAttribute("data-poll"), {
      headers: {"X-Dashboard-Fragment": "1"}, credentials: "same-origin", cache: "no-store",
    });
  } catch (error) {
    return; // the server is restarting or the network blinked: the next poll tries again
  }
  if (response.status === 401) {
    window.location.assign(response.headers.get("X-Dashboard-Login") || window.location.href);
    return;
  }
  if (!response.ok) {
    return;
  }
  const html = await response.text();
  if (element.getAttribute("data-last") !== html) {
    element.setAttribute("data-last", html);
    element.innerHTML = html;
    element.dispatchEvent(new CustomEvent("dashboard:refreshed", {bubbles: true}));
  }
}

for (const element of document.querySelectorAll("[data-poll]")) {
  const every = Number(element.getAttribute("data-interval") || 3000);
  window.setInterval(() => refresh(element), every);
}

// A form marked data-progress (a file upload) is sent by XMLHttpRequest so its <progress> shows how much
// has gone; then the browser goes where the form led (the page with the outcome's message).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const bar = form.matches("[data-progress]") && form.querySelector("progress");
  if (event.defaultPrevented || !bar) {
    return;
  }
  event.preventDefault();
  const label = form.querySelector("[data-progress-label]");
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  request.setRequestHeader("X-Dashboard-Keep-Flash", "1");
  bar.hidden = false;
  for (const button of form.querySelectorAll("button")) {
    button.disabled = true;
  }
  request.upload.addEventListener("progress", (progress) => {
    if (progress.lengthComputable) {
      bar.max = progress.total;
      bar.value = progress.loaded;
      if (label) {
        label.textContent = `${Math.floor(100 * progress.loaded / progress.total)}%`;
      }
    }
  });
  request.addEventListener("load", () => {
    window.location.assign(request.responseURL || window.location.href);
  });
  request.addEventListener("error", () => {
    if (label) {
      label.textContent = "The upload failed: the connection was lost.";
    }
    for (const button of form.querySelectorAll("button")) {
      button.disabled = false;
    }
  });
  request.send(new FormData(form));
});

// A button marked data-copy puts the named field's text on the clipboard (the temporary URL).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  const field = document.querySelector(button.getAttribute("data-copy"));
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch (error) {
    button.textContent = "Press Ctrl+C";
  }
});

// The serial console: a websocket to the cloud's console proxy.  What the guest writes is shown as text
// (terminal escape sequences dropped, backspace honoured); keys typed in it go to the guest as bytes.
const KEYS = {Enter: "\r", Backspace: "\x7f", Tab: "\t", Escape: "\x1b", ArrowUp: "\x1b[A", ArrowDown: "\x1b[B",
  ArrowRight: "\x1b[C", ArrowLeft: "\x1b[D", Delete: "\x1b[3~", Home: "\x1b[H", End: "\x1b[F"};

for (const console_ of document.querySelectorAll("[data-serial]")) {
  const screen = console_.querySelector("pre");
  const state = console_.querySelector("[data-serial-state]");
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const socket = new WebSocket(console_.getAttribute("data-serial"));
  socket.binaryType = "arraybuffer";
  const send = (text) => {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(encoder.encode(text));
    }
  };
  socket.addEventListener("open", () => {
    state.textContent = "Connected: click the console and type (Enter wakes a quiet shell).";
    screen.focus();
  });
  socket.addEventListener("close", () => {
    state.textContent = "Disconnected. Reload the page for a new console.";
  });
  socket.addEventListener("message", (event) => {
    const text = (typeof event.data === "string" ? event.data : decoder.decode(event.data, {stream: true}))
      .replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, "").replace(/\x1b[()][0-9A-Za-z]|\x1b[=>78]/g, "")
      .replace(/\r\n/g, "\n").replace(/\r/g, "");
    let shown = screen.textContent;
    for (const char of text) {
      if (char === "\b") {
        shown = shown.slice(0, -1);
      } else if (char !== "\x07") {
        shown += char;
      }
    }
    screen.textContent = shown.slice(-100000);
    screen.scrollTop = screen.scrollHeight;
  });
  screen.addEventListener("keydown", (event) => {
    let bytes = null;
    if (event.ctrlKey && event.key.length === 1 && /[a-z@\[\\\]^_]/i.test(event.key)) {
      bytes = String.fromCharCode(event.key.toUpperCase().charCodeAt(0) & 31);
    } else if (KEYS[event.key]) {
      bytes = KEYS[event.key];
    } else if (event.key.length === 1 && !event.metaKey && !event.altKey) {
      bytes = event.key;
    }
    if (bytes !== null) {
      event.preventDefault();
      send(bytes);
    }
  });
  screen.addEventListener("paste", (event) => {
    event.preventDefault();
    send(event.clipboardData.getData("text"));
  });
}

// The launch form's flavors: the server greyed those one more instance would put over the project's
// quota; when the count changes, grey again for that many (Nova counts count × the flavor).
document.addEventListener("input", (event) => {
  const count = Number(event.target.value);
  const flavors = event.target.matches("input[name=count]") && event.target.form.querySelector("select[data-quota-room]");
  if (!flavors || !(count >= 1)) {
    return;
  }
  const room = JSON.parse(flavors.getAttribute("data-quota-room"));
  const left = (wanted, free) => free === null || wanted <= free;
  for (const option of flavors.options) {
    const fits = left(count * Number(option.getAttribute("data-vcpus")), room.cores) &&
      left(count * Number(option.getAttribute("data-ram")), room.ram) && left(count, room.instances);
    option.disabled = !fits;
    option.textContent = option.getAttribute("data-label") + (fits ? "" : " (over quota)");
  }
  if (flavors.selectedOptions[0] && flavors.selectedOptions[0].disabled) {
    const first = [...flavors.options].find((option) => !option.disabled);
    flavors.value = first ? first.value : "";
  }
});
