"""Operations on top of resources and the transport.

run, wait, stream, lifetimes, schemas, file inputs and outputs, and the batch engine. Modules here
receive what they need of the client as a small protocol; they never import the client.
"""
