// Import rules for src/ (npm run lint): no cycles anywhere, and imports only go down the layers
// internal → operators · storage → catalog → engine → protocol → gateway · client → cli · web.
// Two layers on one rung (operators and storage, gateway and client, cli and web) may not import
// each other either: what both need belongs a rung lower.
const LAYERS = [
  ['src/errors\\.ts$', 'src/internal/'],
  ['src/operators/', 'src/node\\.ts$', 'src/storage/'],
  ['src/catalog/'],
  ['src/engine/', 'src/options\\.ts$'],
  ['src/protocol/'],
  ['src/gateway/', 'src/client/'],
  ['src/cli/', 'src/web/'],
];

const NAMES = ['internal', 'operators/storage', 'catalog', 'engine', 'protocol', 'gateway/client', 'cli/web'];

const layerRules = LAYERS.flatMap((rung, i) => {
  const above = LAYERS.slice(i + 1).flat();
  const down = above.length
    ? [
        {
          name: `layers-${NAMES[i]}`,
          comment: `${NAMES[i]} may import only from lower layers`,
          severity: 'error',
          from: { path: `^(${rung.join('|')})` },
          to: { path: `^(${above.join('|')})` },
        },
      ]
    : [];
  // Sibling directories on one rung; the loose top-level modules sit with them freely.
  const dirs = rung.filter((p) => p.endsWith('/'));
  const siblings =
    dirs.length > 1
      ? dirs.map((p) => ({
          name: `siblings-${NAMES[i]}`,
          comment: `${p} may not import its sibling on the same rung`,
          severity: 'error',
          from: { path: `^${p}` },
          to: { path: `^(${dirs.filter((q) => q !== p).join('|')})` },
        }))
      : [];
  return [...down, ...siblings];
});

// Inside the gateway: one folder per protocol (api/ the /v1 routes, ws/, tus/, and s3/ when it
// comes) over the HTTP semantics (http/), operations (ops/) and the shared base (src/gateway/*.ts,
// where the server wires them). A protocol never imports another: what two of them need goes
// down to http/, ops/ or the base. http/ knows no protocol and no ops; ops/ knows no protocol.
const PROTOCOLS = ['api', 'ws', 'tus', 's3'];
const gatewayRules = [
  {
    name: 'gateway-protocols',
    comment: 'a protocol folder of the gateway may not import another one: move what both need to http/, ops/ or the base',
    severity: 'error',
    from: { path: `^src/gateway/(${PROTOCOLS.join('|')})/` },
    to: { path: `^src/gateway/(${PROTOCOLS.join('|')})/`, pathNot: '^src/gateway/$1/' },
  },
  {
    name: 'gateway-http',
    comment: 'src/gateway/http/ (HTTP semantics) may not import a protocol folder or ops/',
    severity: 'error',
    from: { path: '^src/gateway/http/' },
    to: { path: `^src/gateway/(${[...PROTOCOLS, 'ops'].join('|')})/` },
  },
  {
    name: 'gateway-ops',
    comment: 'src/gateway/ops/ may not import a protocol folder',
    severity: 'error',
    from: { path: '^src/gateway/ops/' },
    to: { path: `^src/gateway/(${PROTOCOLS.join('|')})/` },
  },
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle (type-only imports included): move what both sides need into a module below them',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    ...gatewayRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
