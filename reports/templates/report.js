// Rendering check for headless browsers (scripts/check_report_html.py reads these from --dump-dom):
// images loaded of all, verdict badges and claim rows of the verdict matrix, and by how many
// pixels the page and the matrix are wider than the window (0: they fit).
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  var matrix = document.getElementById("verdict-matrix");
  var wrap = matrix ? matrix.parentElement : null;
  var page = document.documentElement;
  var data = document.body.dataset;
  data.imagesLoaded = String(loaded.length);
  data.imagesTotal = String(images.length);
  data.matrix = matrix ? "found" : "missing";
  data.verdicts = String(matrix ? matrix.querySelectorAll("tbody [data-verdict]").length : 0);
  data.matrixRows = String(matrix ? matrix.querySelectorAll("tbody tr").length : 0);
  data.pageOverflow = String(Math.max(0, page.scrollWidth - page.clientWidth));
  data.matrixOverflow = String(wrap ? Math.max(0, wrap.scrollWidth - wrap.clientWidth) : 0);
  data.viewportWidth = String(window.innerWidth);
});
