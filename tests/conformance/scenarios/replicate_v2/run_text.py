"""README "Run a model" and replicate.use(): a language model by name, a model by version."""

import asyncio

import replicate

output = replicate.run(
    "meta/meta-llama-3-8b-instruct",
    input={"prompt": "Please write a haiku about llamas.", "seed": 7, "max_tokens": 24},
)
# The official language model's output is a list of tokens to concatenate.
assert isinstance(output, list) and all(isinstance(t, str) for t in output), output
text = "".join(output)
assert text.strip(), repr(text)

hello = replicate.run(
    "replicate/hello-world:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
    input={"text": "Alice"},
)
assert hello == "hello Alice", repr(hello)

# use(): the model as a function; a concatenate-iterator output comes back joined.
llama = replicate.use("meta/meta-llama-3-8b-instruct")
joined = llama(prompt="Please write a haiku about llamas.", seed=7, max_tokens=24)
assert joined == text, (joined, text)

hello_world = replicate.use("replicate/hello-world")
assert hello_world(text="Bob") == "hello Bob"
print("OK", text)


async def main() -> list[str]:
    """README "Async usage": AsyncReplicate, several runs at once."""
    async with replicate.AsyncReplicate() as client:
        return list(
            await asyncio.gather(
                *(
                    client.run(
                        "replicate/hello-world:"
                        "9dcd6d78e7c6560c340d916fe32e9f24aabfa331e5cce95fe31f77fb03121426",
                        input={"text": name},
                    )
                    for name in ("one", "two", "three")
                )
            )
        )


assert asyncio.run(main()) == ["hello one", "hello two", "hello three"]
print("OK async")
