// Clicking a citation marker highlights its card in the sources panel (opening any
// collapsed section around it) instead of following the link.
document.addEventListener('click', function (e) {
  var a = e.target && e.target.closest ? e.target.closest('a.cite') : null;
  if (!a) return;
  e.preventDefault();
  e.stopPropagation();
  var id = (a.getAttribute('href') || '').replace(/^#/, '');
  var card = id ? document.getElementById(id) : null;
  if (!card) return;
  for (var p = card.parentElement; p; p = p.parentElement) { if (p.tagName === 'DETAILS') p.open = true; }
  document.querySelectorAll('.src-card.active').forEach(function (c) { c.classList.remove('active'); });
  card.classList.add('active');
  card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
}, true);
