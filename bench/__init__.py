"""Benchmarks of stackit-chutes against the raw ``openai`` SDK, langchain-openai and llama-index OpenAILike.

Run ``python -m bench [--quick] [--json PATH]`` (or ``python3 dev.py bench``). Every contender talks
to the provider emulator (``tests/emulator``) on 127.0.0.1, started in a child process so that its
CPU work does not share the GIL with the clients being measured. Results are ratios against the raw
``openai`` SDK in the same run, never absolute targets; see ``bench/README.md``.
"""
