#!/usr/bin/env bash
# Build a Joule project for production, in its own folder: the image's build
# step (Dockerfile), also run by tests/integration/test_deploy_files.py on a
# scratch copy of the repository.
#
#   deploy/build.sh TARGET
#
# TARGET is the project folder (joule.toml, services/, proxied_frontends/).
#   1. pip install TARGET: the project and its dependencies, into the
#      environment of $PYTHON (default python3; the image's is /opt/venv).
#   2. Each frontend service: `npm ci`, then its build with BASE_PATH = its
#      prefix, leaving the stamp the platform checks at start
#      (python -m platform_core.runtime.build), so nothing is rebuilt then.
#   3. manage.py start --check (check --deploy; errors fail the build), with
#      a throwaway secret key; the var/ it makes is removed again.
# Needs Python 3.11 with pip, and Node.js with npm when there are frontends.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 TARGET" >&2
    exit 2
fi
target="$(cd "$1" && pwd)"
python="${PYTHON:-python3}"
cd "$target"

# pip's in-tree build leaves build/ and joule.egg-info, the check var/:
# whichever of them was not there before goes again.
leftovers=()
for name in build joule.egg-info var; do
    [[ -e $name ]] || leftovers+=("$name")
done

echo "==> pip install $target"
"$python" -m pip install --no-cache-dir --disable-pip-version-check "$target"

echo "==> frontends: npm ci and build"
JOULE_ROOT="$target" "$python" -m platform_core.runtime.build "$target"

echo "==> manage.py start --check"
secret="$("$python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
JOULE_ROOT="$target" JOULE_SECRET_KEY="$secret" JOULE_DEBUG=0 \
    "$python" manage.py start --check
if [[ ${#leftovers[@]} -gt 0 ]]; then
    rm -rf "${leftovers[@]}"
fi
echo "==> built $target"
