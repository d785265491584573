#!/usr/bin/env bash
# dump.sh REGISTRY REPO — writes the tags, manifests (exact bytes) and blobs
# of every chunk artifact in REPO of the registry at REGISTRY (host:port,
# plain HTTP) into the current directory: tags.txt, manifests/<tag>,
# blobs/<sha256 hex>.
set -euo pipefail
reg=$1 repo=$2
mkdir -p manifests blobs
curl -sf "http://$reg/v2/$repo/tags/list?n=1000" | python3 -c 'import json,sys; print("\n".join(sorted(json.load(sys.stdin)["tags"])))' > tags.txt
while read -r tag; do
	curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' -o "manifests/$tag" "http://$reg/v2/$repo/manifests/$tag"
	for d in $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["config"]["digest"]); [print(l["digest"]) for l in m["layers"]]' "manifests/$tag"); do
		[ -e "blobs/${d#sha256:}" ] || curl -sf -o "blobs/${d#sha256:}" "http://$reg/v2/$repo/blobs/$d"
	done
done < tags.txt
