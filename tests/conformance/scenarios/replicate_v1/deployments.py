"""Deployments: create, get, run a prediction on it, update (new release), list, delete."""

import replicate

HELLO = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"
OLD = "0000000000000000b67bd330526532a2c38286724803ddbbea2833fef099e6a5"

created = replicate.deployments.create(
    name="my-app-image-generator",
    model="replicate/hello-world",
    version=HELLO,
    hardware="cpu",
    min_instances=0,
    max_instances=1,
)
owner = created.owner
assert created.name == "my-app-image-generator"
assert created.current_release.number == 1
assert created.current_release.version == HELLO
assert created.current_release.configuration.hardware == "cpu"

deployment = replicate.deployments.get(f"{owner}/my-app-image-generator")
assert deployment.current_release.model == "replicate/hello-world"
prediction = deployment.predictions.create(input={"text": "deployment"})
prediction.wait()
assert prediction.status == "succeeded" and prediction.output == "hello deployment"

updated = replicate.deployments.update(
    deployment_owner=owner,
    deployment_name="my-app-image-generator",
    version=OLD,
    max_instances=3,
)
assert updated.current_release.number == 2
assert updated.current_release.version == OLD
assert updated.current_release.configuration.max_instances == 3

again = replicate.deployments.predictions.create(deployment, input={"text": "again"})
again.wait()
assert again.output == "hello again" and again.version == OLD, (again.output, again.version)
names = [d.name for d in replicate.deployments.list().results]
assert "my-app-image-generator" in names, names
assert replicate.deployments.delete(owner, "my-app-image-generator")
print("OK")
