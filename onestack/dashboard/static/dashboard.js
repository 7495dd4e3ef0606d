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
