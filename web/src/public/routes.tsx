import { Route } from 'react-router';
import { authPublicRoutes } from '../features/auth/LoginRoutes';
import { ebillPublicRoute } from '../features/ebill/pages';
import { evoucherPublicRoute } from '../features/evoucher/pages';

/** Stand-alone pages outside the portals (login, H5 widgets, public verification); each center adds its own. */
export const publicRoutes = [
  <Route key="placeholder" path="/h5" element={null} />,
  ...authPublicRoutes,
  ebillPublicRoute,
  evoucherPublicRoute,
];
