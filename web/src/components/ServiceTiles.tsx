import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useRegion } from '../lib/region';
import styles from './ServiceTiles.module.css';

/** A hall's services as large tiles (four to a row on a phone), in the region's colour. */
export function ServiceTiles({ items }: { items: Array<{ to: string; label: string; icon: ReactNode }> }) {
  const region = useRegion();
  return (
    <ul className={styles.tiles} aria-label="服务列表">
      {items.map((s) => (
        <li key={s.to}>
          <Link to={s.to} className={styles.tile}>
            <span className={styles.tileIcon} aria-hidden style={{ color: region?.brandColor }}>
              {s.icon}
            </span>
            <span>{s.label}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
