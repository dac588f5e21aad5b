// The queue and the capacity board refresh themselves: htmx asks for their live part again every few seconds
// (hx-trigger="every …s" on a `.live` element). A refresh replaces the cards, so it is skipped while the person is
// working in one (a "Lost…" or "Note…" form open, or a field of it focused): nothing moves under their hands, and the
// next poll catches up. A file of its own, as the Content-Security-Policy allows scripts from this site only.
document.addEventListener("htmx:beforeRequest", function (event) {
  var live = event.detail.elt;
  if (!live.classList || !live.classList.contains("live")) {
    return;
  }
  var focused = document.activeElement;
  if (live.querySelector("details[open]") || (live.contains(focused) && focused.matches("input, textarea, select"))) {
    event.preventDefault();
  }
});
