# Sourced by ./vmctl, ./run-tests and .ci/run: points JAVA_HOME at a JDK 25 or newer.
# Rivet is built with --release 25; Debian's default java here is 17, so we look for one.
rivet_java_ok() {
    [ -x "$1/bin/java" ] || return 1
    local v
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null
}
if [ -z "${JAVA_HOME:-}" ] || ! rivet_java_ok "$JAVA_HOME"; then
    JAVA_HOME=""
    for c in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*; do
        if rivet_java_ok "$c"; then JAVA_HOME="$c"; break; fi
    done
    if [ -z "$JAVA_HOME" ] && command -v java >/dev/null; then
        jh=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        if rivet_java_ok "$jh"; then JAVA_HOME="$jh"; fi
    fi
    if [ -z "$JAVA_HOME" ]; then
        echo "rivet: needs JDK 25 or newer; set JAVA_HOME to one (e.g. /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
        exit 1
    fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
