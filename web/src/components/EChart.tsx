import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { chinaDay } from '../lib/time';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.EChartsCoreOption;

/**
 * A bar/line chart that follows the window's width; `label` is what screen readers hear; `onPick` gets the category
 * index of a click in the plot.
 */
export function EChart({
  option,
  height,
  label,
  onPick,
}: {
  option: ChartOption;
  height: number;
  label: string;
  onPick?: (index: number) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts>(null);
  const pick = useRef(onPick);
  pick.current = onPick;
  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current);
    chart.current = c;
    // anywhere in a day's column, not only on its bar (a short bar is hard to hit on a phone)
    c.getZr().on('click', (e) => {
      const point = [e.offsetX, e.offsetY];
      if (!pick.current || !c.containPixel({ gridIndex: 0 }, point)) return;
      const [index] = c.convertFromPixel({ seriesIndex: 0 }, point) as number[];
      if (Number.isFinite(index)) pick.current(Math.round(index!));
    });
    const onResize = () => c.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);
  return <div ref={el} style={{ width: '100%', height }} role="img" aria-label={label} />;
}

/** The last `days` calendar days in China time (the servers group by Asia/Shanghai), oldest first, as YYYY-MM-DD. */
export function lastDays(days: number, now = Date.now()): string[] {
  return Array.from({ length: days }, (_, i) => chinaDay(now - (days - 1 - i) * 86_400_000));
}

/** Shared layout: tooltips by axis, a scrolling legend under the plot. */
export const chartFrame = (right = 16) => ({
  tooltip: { trigger: 'axis' },
  legend: { type: 'scroll', bottom: 0 },
  grid: { left: 48, right, top: 24, bottom: 56 },
});
