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
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
