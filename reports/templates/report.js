// Rendering check for headless browsers (scripts/check_report_html.py reads these from --dump-dom).
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  var rows = document.querySelectorAll("#verdict-table tbody tr");
  document.body.dataset.imagesLoaded = String(loaded.length);
  document.body.dataset.imagesTotal = String(images.length);
  document.body.dataset.verdictRows = String(rows.length);
});
