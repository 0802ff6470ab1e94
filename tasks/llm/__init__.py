"""LLM providers (OpenAI, Anthropic) behind one structured-completion call."""
