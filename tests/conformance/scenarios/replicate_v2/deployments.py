"""Deployments: create, get, predictions on it, update (new release), list, delete."""

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
assert created.current_release.number == 1 and created.current_release.version == HELLO
assert created.current_release.configuration.hardware == "cpu"

got = replicate.deployments.get(deployment_owner=owner, deployment_name="my-app-image-generator")
assert got.current_release.model == "replicate/hello-world"
prediction = replicate.deployments.predictions.create(
    deployment_owner=owner, deployment_name="my-app-image-generator", input={"text": "deployment"}
)
done = replicate.predictions.wait(prediction_id=prediction.id)
assert done.status == "succeeded" and done.output == "hello deployment", done

updated = replicate.deployments.update(
    deployment_owner=owner,
    deployment_name="my-app-image-generator",
    version=OLD,
    max_instances=3,
)
assert updated.current_release.number == 2 and updated.current_release.version == OLD
assert updated.current_release.configuration.max_instances == 3

names = [d.name for d in replicate.deployments.list()]
assert "my-app-image-generator" in names, names
replicate.deployments.delete(deployment_owner=owner, deployment_name="my-app-image-generator")
try:
    replicate.deployments.get(deployment_owner=owner, deployment_name="my-app-image-generator")
except replicate.NotFoundError:
    pass
else:
    raise AssertionError("a deleted deployment is still there")
print("OK")
