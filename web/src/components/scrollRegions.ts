/**
 * Keyboard access to scrolling regions (WCAG 2.1.1): a wide table that scrolls sideways gets tabindex=0 and a name,
 * so keyboard users can focus and scroll it; one that fits loses them again. antd renders these containers itself.
 * A region starts or stops scrolling when nodes come or go, but also when a cell's text changes or a web font
 * arrives, which no childList mutation reports: each region and its content are watched for resizes too.
 */
const SCROLLERS = '.ant-table-content, .ant-table-body, .ant-drawer-body';

function update(el: HTMLElement): void {
  const scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
  if (scrolls && !el.hasAttribute('tabindex')) {
    el.tabIndex = 0;
    el.dataset.scrollRegion = '';
    if (!el.hasAttribute('aria-label')) el.setAttribute('aria-label', '可滚动区域');
  } else if (!scrolls && el.dataset.scrollRegion !== undefined) {
    el.removeAttribute('tabindex');
    el.removeAttribute('aria-label');
    delete el.dataset.scrollRegion;
  }
}

export function keepScrollRegionsFocusable(root: HTMLElement = document.body): void {
  let queued = false;
  const watched = new Set<Element>();
  const scan = () => {
    queued = false;
    for (const box of watched) {
      if (!box.isConnected) {
        resizes.unobserve(box);
        watched.delete(box);
      }
    }
    for (const el of root.querySelectorAll<HTMLElement>(SCROLLERS)) {
      for (const box of [el, el.firstElementChild]) {
        if (box && !watched.has(box)) {
          watched.add(box);
          resizes.observe(box);
        }
      }
      update(el);
    }
  };
  const schedule = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(scan);
    }
  };
  const resizes = new ResizeObserver(schedule);
  new MutationObserver(schedule).observe(root, { childList: true, subtree: true });
  window.addEventListener('resize', schedule);
  schedule();
}
