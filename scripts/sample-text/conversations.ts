// The chat sample's conversations, written for this repository and dedicated to the public domain
// (CC0). Each is a list of messages in the conversational format Hugging Face and TRL use
// (role + content); some open with a system message, some run to several turns, so that a chat
// template renders every role and an assistant-only loss has more than one span to train on.

export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const SAILOR = 'You are a ship\'s mate who answers briefly and plainly.';
const TUTOR = 'You are a patient English tutor. Keep answers short.';

export const CONVERSATIONS: readonly (readonly Message[])[] = [
  [
    { role: 'user', content: 'Hello! Who are you?' },
    { role: 'assistant', content: 'Hello. I am a small assistant running in your browser. How can I help?' },
  ],
  [
    { role: 'user', content: 'What is the capital of Italy?' },
    { role: 'assistant', content: 'The capital of Italy is Rome.' },
  ],
  [
    { role: 'user', content: 'What is the capital of Egypt?' },
    { role: 'assistant', content: 'The capital of Egypt is Cairo.' },
    { role: 'user', content: 'And of Peru?' },
    { role: 'assistant', content: 'The capital of Peru is Lima.' },
  ],
  [
    { role: 'user', content: 'How many legs does a spider have?' },
    { role: 'assistant', content: 'A spider has eight legs.' },
  ],
  [
    { role: 'user', content: 'What is 9 times 7?' },
    { role: 'assistant', content: '9 times 7 is 63.' },
    { role: 'user', content: 'And 9 times 8?' },
    { role: 'assistant', content: '9 times 8 is 72.' },
  ],
  [
    { role: 'user', content: 'Can you suggest a name for a grey cat?' },
    { role: 'assistant', content: 'How about Ash, Smoke or Pebble?' },
  ],
  [
    { role: 'user', content: 'Is a tomato a fruit or a vegetable?' },
    { role: 'assistant', content: 'In botany a tomato is a fruit, because it holds seeds. In cooking it is usually treated as a vegetable.' },
  ],
  [
    { role: 'user', content: 'Thank you for your help.' },
    { role: 'assistant', content: 'You are welcome. Good luck!' },
  ],
  [
    { role: 'system', content: SAILOR },
    { role: 'user', content: 'What does port mean on a ship?' },
    { role: 'assistant', content: 'Port is the left side of the ship when you face the bow.' },
  ],
  [
    { role: 'system', content: SAILOR },
    { role: 'user', content: 'And starboard?' },
    { role: 'assistant', content: 'Starboard is the right side when you face the bow.' },
  ],
  [
    { role: 'system', content: SAILOR },
    { role: 'user', content: 'What is the bow?' },
    { role: 'assistant', content: 'The bow is the front of the ship. The back is the stern.' },
    { role: 'user', content: 'What is a knot?' },
    { role: 'assistant', content: 'A knot is a speed of one nautical mile an hour, a little faster than one mile an hour on land.' },
  ],
  [
    { role: 'system', content: SAILOR },
    { role: 'user', content: 'Why do sailors keep a log?' },
    { role: 'assistant', content: 'The log records the ship\'s speed, course, weather and events, so anyone can tell where she has been and why.' },
  ],
  [
    { role: 'system', content: SAILOR },
    { role: 'user', content: 'What is a harpoon?' },
    { role: 'assistant', content: 'A harpoon is a barbed spear on a line, once thrown by hand at whales.' },
  ],
  [
    { role: 'system', content: SAILOR },
    { role: 'user', content: 'Which way is the wind blowing if it comes from the north?' },
    { role: 'assistant', content: 'A north wind blows from the north toward the south.' },
  ],
  [
    { role: 'system', content: TUTOR },
    { role: 'user', content: 'Is it "fewer people" or "less people"?' },
    { role: 'assistant', content: '"Fewer people". Use fewer for things you can count and less for things you cannot, like less water.' },
  ],
  [
    { role: 'system', content: TUTOR },
    { role: 'user', content: 'What is the past tense of "swim"?' },
    { role: 'assistant', content: 'The past tense is "swam", and the past participle is "swum".' },
    { role: 'user', content: 'And of "bring"?' },
    { role: 'assistant', content: 'The past tense and past participle are both "brought".' },
  ],
  [
    { role: 'system', content: TUTOR },
    { role: 'user', content: 'When do I use "its" and when "it\'s"?' },
    { role: 'assistant', content: '"It\'s" is short for "it is" or "it has". "Its" shows belonging, as in "the ship lost its mast".' },
  ],
  [
    { role: 'system', content: TUTOR },
    { role: 'user', content: 'What is a synonym?' },
    { role: 'assistant', content: 'A synonym is a word with the same or nearly the same meaning as another, like big and large.' },
  ],
  [
    { role: 'system', content: TUTOR },
    { role: 'user', content: 'Correct this: "me and him went home".' },
    { role: 'assistant', content: '"He and I went home."' },
  ],
  [
    { role: 'user', content: 'Give me three words that rhyme with "sea".' },
    { role: 'assistant', content: 'Tree, free and key.' },
  ],
  [
    { role: 'user', content: 'How long does it take light from the Sun to reach the Earth?' },
    { role: 'assistant', content: 'About eight minutes and twenty seconds.' },
  ],
  [
    { role: 'user', content: 'What should I pack for a day at the beach?' },
    { role: 'assistant', content: 'Water, sun cream, a hat, a towel and something to eat.' },
    { role: 'user', content: 'Anything else?' },
    { role: 'assistant', content: 'A bag for your rubbish, so you leave the beach as you found it.' },
  ],
  [
    { role: 'user', content: 'What is the boiling point of water at sea level?' },
    { role: 'assistant', content: '100 degrees Celsius, or 212 degrees Fahrenheit.' },
  ],
  [
    { role: 'user', content: 'Write a one-line poem about the ocean.' },
    { role: 'assistant', content: 'The grey sea turns its pages in the wind.' },
  ],
  [
    { role: 'user', content: 'Which planet is closest to the Sun?' },
    { role: 'assistant', content: 'Mercury is the closest planet to the Sun.' },
  ],
  [
    { role: 'user', content: 'How do I say "good night" in German?' },
    { role: 'assistant', content: '"Gute Nacht".' },
  ],
  [
    { role: 'user', content: 'Can you help me count to five in Spanish?' },
    { role: 'assistant', content: 'Uno, dos, tres, cuatro, cinco.' },
    { role: 'user', content: 'And back down?' },
    { role: 'assistant', content: 'Cinco, cuatro, tres, dos, uno.' },
    { role: 'user', content: 'Great, thanks!' },
    { role: 'assistant', content: '¡De nada! That means "you are welcome".' },
  ],
  [
    { role: 'user', content: 'What is the largest animal that has ever lived?' },
    { role: 'assistant', content: 'The blue whale. It can grow to about thirty metres long.' },
  ],
];
