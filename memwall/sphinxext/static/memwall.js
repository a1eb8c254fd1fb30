/* memwall's page script (memwall/sphinxext/page_style.py adds it to every page).

   Charts as wide as the column (width "container") are resized by Vega on the window's resize event, but
   that event can fire before the theme has laid the page out for the new width (its sidebars appear at a
   breakpoint): a chart then takes a stale column width, and after narrowing and widening the window it is
   drawn wider than its column and cut. Once the resizing has stopped for 200 ms, one more resize event is
   sent, so that every chart measures the settled column. */
(() => {
  let timer = null;
  let replaying = false;
  window.addEventListener("resize", () => {
    if (replaying) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      replaying = true;
      window.dispatchEvent(new Event("resize"));
      replaying = false;
    }, 200);
  });
})();
