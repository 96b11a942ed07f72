#!/usr/bin/env bash
# Shows the C4 diagrams of docs/architecture/c4/workspace.dsl in the browser.
#   ./scripts/structurizr-lite.sh                    serve them until Ctrl-C, printing the URL
#   ./scripts/structurizr-lite.sh --render-only DIR  write the static page into DIR and exit (for the tests)
# With Docker (and a daemon that answers): runs the structurizr/lite image on the workspace.
# Without Docker: the Structurizr DSL parser and exporters from Maven Central (installed on first use by
# scripts/c4/structurizr.sh) export every view to Mermaid; the page draws them with the mermaid package and its
# ELK layout from node_modules, served by python3's http.server.
# Settings (environment):
#   PORT                8089        port of the page (Structurizr Lite's too)
#   HOST                127.0.0.1   address the static server binds
#   STRUCTURIZR_DOCKER  auto        "no" = never use Docker
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
C4_DIR="$REPO_ROOT/docs/architecture/c4"
WORKSPACE="$C4_DIR/workspace.dsl"
MERMAID_JS="$REPO_ROOT/node_modules/mermaid/dist/mermaid.min.js"
ELK_DIST="$REPO_ROOT/node_modules/@mermaid-js/layout-elk/dist"
PORT=${PORT:-8089}
HOST=${HOST:-127.0.0.1}

usage() {
  echo "usage: $0 [--render-only DIR]" >&2
  exit 2
}

# render DIR: the static page (index.html, mermaid.min.js, layout-elk/, views/*.mmd, workspace.json) in DIR.
render() {
  local dir=$1 file
  for file in "$MERMAID_JS" "$ELK_DIST/mermaid-layout-elk.esm.min.mjs"; do
    [[ -f $file ]] || { echo "structurizr-lite: $file missing: run 'npm install' in $REPO_ROOT first" >&2; exit 1; }
  done
  "$REPO_ROOT/scripts/c4/structurizr.sh" export "$WORKSPACE" "$dir"
  cp "$MERMAID_JS" "$dir/mermaid.min.js"
  # The ELK module loads its chunks by relative path: same layout, without the source maps.
  rm -rf "$dir/layout-elk"
  mkdir -p "$dir/layout-elk/chunks/mermaid-layout-elk.esm.min"
  cp "$ELK_DIST/mermaid-layout-elk.esm.min.mjs" "$dir/layout-elk/"
  cp "$ELK_DIST"/chunks/mermaid-layout-elk.esm.min/*.mjs "$dir/layout-elk/chunks/mermaid-layout-elk.esm.min/"
}

docker_usable() {
  [[ ${STRUCTURIZR_DOCKER:-auto} != no ]] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

case ${1:-} in
  --render-only)
    [[ $# -eq 2 ]] || usage
    mkdir -p "$2"
    render "$(cd "$2" && pwd)"
    exit 0
    ;;
  "") ;;
  *) usage ;;
esac

if docker_usable; then
  tty_flags=()
  [[ -t 0 ]] && tty_flags=(-it)
  echo "Structurizr Lite on http://localhost:$PORT/ (Ctrl-C stops it)" >&2
  exec docker run --rm "${tty_flags[@]}" -p "$PORT:8080" -v "$C4_DIR:/usr/local/structurizr" structurizr/lite
fi

command -v python3 >/dev/null 2>&1 || { echo "structurizr-lite: python3 is needed to serve the page (apt-get install -y python3)" >&2; exit 1; }
SITE="$REPO_ROOT/.infra/c4-site"
echo "No Docker: rendering the workspace with the Structurizr DSL parser into $SITE" >&2
render "$SITE"
echo "C4 diagrams on http://$HOST:$PORT/ (Ctrl-C stops the server)"
# python's http.server, with .mjs always served as JavaScript: browsers refuse ES modules of another type,
# and the type python guesses comes from the machine's /etc/mime.types.
exec python3 -c '
import functools, http.server, sys
port, bind, site = int(sys.argv[1]), sys.argv[2], sys.argv[3]
handler = http.server.SimpleHTTPRequestHandler
handler.extensions_map = {**handler.extensions_map, ".mjs": "text/javascript"}
http.server.test(HandlerClass=functools.partial(handler, directory=site), port=port, bind=bind)
' "$PORT" "$HOST" "$SITE"
