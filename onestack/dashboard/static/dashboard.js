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
