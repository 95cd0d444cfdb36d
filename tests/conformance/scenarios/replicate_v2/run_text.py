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
    "replicate/hello-world:0000000000000000b67bd330526532a2c38286724803ddbbea2833fef099e6a5",
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
                        "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44",
                        input={"text": name},
                    )
                    for name in ("one", "two", "three")
                )
            )
        )


assert asyncio.run(main()) == ["hello one", "hello two", "hello three"]
print("OK async")
