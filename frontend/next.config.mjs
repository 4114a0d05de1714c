// The dashboard is a static export (`out/`), served by the frontend target
// (`server/`, Hono) on port 3000 and at `/` of the gateway. No Next.js server
// runs in production, so nothing here may need one: no rewrites, redirects,
// headers, image optimisation or route handlers.

/** @type {import("next").NextConfig} */
const nextConfig = {
  output: "export",
  distDir: ".next",
  trailingSlash: false,
  images: { unoptimized: true },
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: new URL("..", import.meta.url).pathname },
};

export default nextConfig;
