// Room-door screens: keep the clock ticking in the conference's zone, and replace the
// screen's contents whenever confbot pushes new ones (server-sent events; the browser
// reconnects by itself after a restart, and confbot sends the current screen at once).
"use strict";
(function () {
  const body = document.body;
  const main = document.getElementById("screen");
  const clock = document.getElementById("clock");
  const status = document.getElementById("status");
  const format = new Intl.DateTimeFormat(body.dataset.locale || "en", {
    timeZone: body.dataset.zone,
    hour: "numeric",
    minute: "2-digit",
    hour12: body.dataset.clock === "12",
  });
  const tick = () => { clock.textContent = format.format(new Date()); };
  tick();
  setInterval(tick, 1000);

  const events = new EventSource(body.dataset.events);
  events.addEventListener("screen", (event) => {
    main.innerHTML = event.data;
    // Live: the pushed contents are on the page (tests and operators can tell).
    body.dataset.live = "yes";
    status.textContent = "";
    status.classList.remove("offline");
  });
  events.addEventListener("gone", () => {
    events.close();
    main.innerHTML = "";
    status.textContent = "This screen is no longer published.";
    // Published again later: the page finds out by itself.
    setTimeout(() => location.reload(), 60000);
  });
  events.onerror = () => {
    status.textContent = "Reconnecting…";
    status.classList.add("offline");
  };
})();
