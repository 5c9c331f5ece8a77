import { useQuery } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext } from 'react';
import { api, setRegionHeader } from './api';
import { useSession } from './session';

export interface RegionConfig {
  regionCode: string;
  displayName: string;
  brandColor: string;
  logoUrl: string | null;
  enabledServices: string[];
}

const DEFAULT_REGION = '990100';
const RegionContext = createContext<RegionConfig | undefined>(undefined);

/** The region whose branding and services the portal shows: the signed-in person's, else ?region= or the default. */
export function useRegionCode(): string {
  const session = useSession();
  const fromUrl = new URLSearchParams(location.search).get('region');
  return session?.regionCode ?? fromUrl ?? localStorage.getItem('yibao.region') ?? DEFAULT_REGION;
}

export function RegionProvider({ children }: { children: (config: RegionConfig | undefined) => ReactNode }) {
  const code = useRegionCode();
  // A region chosen by link (?region=) sticks for this browser (login, registration), and anonymous calls
  // (registration, SMS codes) are made in that region; a signed-in person's own region always wins on the server.
  const fromUrl = new URLSearchParams(location.search).get('region');
  if (fromUrl && /^\d{6}$/.test(fromUrl) && localStorage.getItem('yibao.region') !== fromUrl)
    localStorage.setItem('yibao.region', fromUrl);
  setRegionHeader(code);
  const { data } = useQuery({
    queryKey: ['region-config', code],
    queryFn: () => api<RegionConfig>(`/api/regions/${code}/config`),
    staleTime: 60_000,
  });
  return <RegionContext.Provider value={data}>{children(data)}</RegionContext.Provider>;
}

export const useRegion = () => useContext(RegionContext);
export const serviceEnabled = (config: RegionConfig | undefined, service: string) =>
  !config || config.enabledServices.length === 0 || config.enabledServices.includes(service);

/** A region's name for display (“示范省·东湖市”), the code itself until the list has loaded or when unknown. */
export function useRegionName(code: string | undefined): string {
  const { data } = useQuery({
    queryKey: ['regions'],
    queryFn: () => api<Array<{ code: string; name: string }>>('/api/regions'),
    staleTime: Number.POSITIVE_INFINITY,
  });
  return data?.find((r) => r.code === code)?.name ?? code ?? '—';
}
