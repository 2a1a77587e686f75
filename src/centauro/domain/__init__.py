"""Pure rules of an SMS gateway: numbers, text, states, errors. Imports nothing of ours."""
