#!/usr/bin/env bash
# The Structurizr DSL parser and exporters, from Maven Central, for rendering the C4 workspace without Docker.
#   scripts/c4/structurizr.sh install                  install into the cache (skipped when already there)
#   scripts/c4/structurizr.sh export WORKSPACE OUT_DIR  parse WORKSPACE (.dsl), write OUT_DIR/workspace.json,
#                                                      OUT_DIR/views/*.mmd (Mermaid) and OUT_DIR/index.html
# Settings (environment):
#   STRUCTURIZR_VERSION  4.1.0   com.structurizr:structurizr-dsl and structurizr-export version
# Cache: ~/.cache/tbp-infra/structurizr-<version> (TBP_INFRA_CACHE moves it, as for scripts/infra/).
INFRA_NAME=structurizr
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

STRUCTURIZR_VERSION=${STRUCTURIZR_VERSION:-4.1.0}
SLF4J_VERSION=1.7.36
C4_SCRIPTS="$REPO_ROOT/scripts/c4"
STRUCTURIZR_HOME="$INFRA_CACHE/structurizr-$STRUCTURIZR_VERSION"
STRUCTURIZR_LIBS="$STRUCTURIZR_HOME/libs"
STRUCTURIZR_MARKER="$STRUCTURIZR_HOME/.installed"
STRUCTURIZR_SPEC="structurizr-dsl+export:$STRUCTURIZR_VERSION slf4j-nop:$SLF4J_VERSION dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION"

structurizr_install() {
  if marker_matches "$STRUCTURIZR_MARKER" "$STRUCTURIZR_SPEC" && [[ -f $STRUCTURIZR_LIBS/structurizr-dsl-$STRUCTURIZR_VERSION.jar ]]; then
    return 0
  fi
  local start
  start=$(now_ms)
  log "first use: installing the Structurizr DSL parser and exporters $STRUCTURIZR_VERSION from Maven Central into $STRUCTURIZR_HOME"
  # The parser logs through SLF4J: the no-op binding keeps its warnings out of the script's output.
  maven_install_jars "$STRUCTURIZR_HOME" "Structurizr $STRUCTURIZR_VERSION" \
    "structurizr-dsl-$STRUCTURIZR_VERSION.jar" "structurizr-export-$STRUCTURIZR_VERSION.jar" <<DEPS
    <dependency><groupId>com.structurizr</groupId><artifactId>structurizr-dsl</artifactId><version>$STRUCTURIZR_VERSION</version></dependency>
    <dependency><groupId>com.structurizr</groupId><artifactId>structurizr-export</artifactId><version>$STRUCTURIZR_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>$SLF4J_VERSION</version></dependency>
DEPS
  write_marker "$STRUCTURIZR_MARKER" "$STRUCTURIZR_SPEC"
  log "installed Structurizr $STRUCTURIZR_VERSION ($(since "$start"))"
}

# structurizr_export WORKSPACE OUT_DIR: see the header.
structurizr_export() {
  local workspace=$1 out=$2
  [[ -f $workspace ]] || die "no workspace at $workspace"
  structurizr_install
  mkdir -p "$out"
  "$(java_bin)" -cp "$(exporter_classes):$STRUCTURIZR_LIBS/*" C4Export "$workspace" "$out" "$C4_SCRIPTS/index.html" >&2 ||
    die "could not export $workspace (see the parser's message above)"
}

# exporter_classes: C4Export.java compiled once per version of its source (cached by content hash).
exporter_classes() {
  local dir
  dir="$STRUCTURIZR_HOME/classes/$(sha256sum "$C4_SCRIPTS/C4Export.java" | cut -c1-16)"
  if [[ ! -f $dir/C4Export.class ]]; then
    need_cmd javac "a JDK 17: apt-get install -y openjdk-17-jdk-headless"
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    javac -nowarn -d "$dir.tmp" -cp "$STRUCTURIZR_LIBS/*" "$C4_SCRIPTS/C4Export.java" >&2 || die "could not compile $C4_SCRIPTS/C4Export.java"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
  fi
  printf '%s' "$dir"
}

# Run as a script (not sourced): dispatch.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case ${1:-} in
    install)
      take_lock "$INFRA_CACHE/locks/$INFRA_NAME.lock" 600
      structurizr_install
      ;;
    export)
      [[ $# -eq 3 ]] || die "usage: $0 export WORKSPACE OUT_DIR"
      take_lock "$INFRA_CACHE/locks/$INFRA_NAME.lock" 600
      structurizr_export "$2" "$3"
      ;;
    *)
      echo "usage: $0 {install | export WORKSPACE OUT_DIR}" >&2
      exit 2
      ;;
  esac
fi
