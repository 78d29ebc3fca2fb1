// The instruction sample's examples, written for this repository and dedicated to the public
// domain (CC0). Short tasks in plain English with short, exact answers, so a small model can
// learn the shape of a reply in a few hundred steps. Alpaca's fields: an instruction, an
// optional input the instruction is about, and the output to train on.

export interface Instruction {
  instruction: string;
  input: string;
  output: string;
}

export const INSTRUCTIONS: readonly Instruction[] = [
  { instruction: 'Give the plural of the word.', input: 'whale', output: 'whales' },
  { instruction: 'Give the plural of the word.', input: 'harpoon', output: 'harpoons' },
  { instruction: 'Give the plural of the word.', input: 'mouse', output: 'mice' },
  { instruction: 'Give the plural of the word.', input: 'ox', output: 'oxen' },
  { instruction: 'Give the opposite of the word.', input: 'calm', output: 'stormy' },
  { instruction: 'Give the opposite of the word.', input: 'ancient', output: 'modern' },
  { instruction: 'Give the opposite of the word.', input: 'generous', output: 'mean' },
  { instruction: 'Give the opposite of the word.', input: 'arrive', output: 'depart' },
  { instruction: 'Put the sentence in the past tense.', input: 'The ship sails at dawn.', output: 'The ship sailed at dawn.' },
  { instruction: 'Put the sentence in the past tense.', input: 'We write to the senator every week.', output: 'We wrote to the senator every week.' },
  { instruction: 'Put the sentence in the past tense.', input: 'The crew sees land and cheers.', output: 'The crew saw land and cheered.' },
  { instruction: 'Put the sentence in the past tense.', input: 'Congress meets in the winter.', output: 'Congress met in the winter.' },
  { instruction: 'Correct the spelling in the sentence.', input: 'The captian recieved a leter from home.', output: 'The captain received a letter from home.' },
  { instruction: 'Correct the spelling in the sentence.', input: 'It was a definately strange occurence.', output: 'It was a definitely strange occurrence.' },
  { instruction: 'Correct the spelling in the sentence.', input: 'The goverment will adress the nation tomorow.', output: 'The government will address the nation tomorrow.' },
  { instruction: 'Name the capital city of the country.', input: 'France', output: 'Paris' },
  { instruction: 'Name the capital city of the country.', input: 'Japan', output: 'Tokyo' },
  { instruction: 'Name the capital city of the country.', input: 'Kenya', output: 'Nairobi' },
  { instruction: 'Name the capital city of the country.', input: 'Canada', output: 'Ottawa' },
  { instruction: 'Add the two numbers.', input: '12 and 30', output: '42' },
  { instruction: 'Add the two numbers.', input: '7 and 8', output: '15' },
  { instruction: 'Add the two numbers.', input: '125 and 75', output: '200' },
  { instruction: 'Is the number even or odd?', input: '17', output: 'odd' },
  { instruction: 'Is the number even or odd?', input: '64', output: 'even' },
  { instruction: 'Is the number even or odd?', input: '1001', output: 'odd' },
  { instruction: 'Sort the words in alphabetical order.', input: 'pear, apple, mango', output: 'apple, mango, pear' },
  { instruction: 'Sort the words in alphabetical order.', input: 'tide, anchor, sail, rope', output: 'anchor, rope, sail, tide' },
  { instruction: 'Count the words in the sentence.', input: 'Call me Ishmael.', output: '3' },
  { instruction: 'Count the words in the sentence.', input: 'The sea was calm that night.', output: '6' },
  { instruction: 'Say whether the sentence is a question or a statement.', input: 'Where is the harbour?', output: 'a question' },
  { instruction: 'Say whether the sentence is a question or a statement.', input: 'The harbour is to the north.', output: 'a statement' },
  { instruction: 'Summarise the text in one sentence.', input: 'The storm lasted three days. The crew lost two boats and a mast, but nobody was hurt, and on the fourth morning the sky cleared.', output: 'The crew came through a three-day storm with damage to the ship but no one hurt.' },
  { instruction: 'Summarise the text in one sentence.', input: 'The new law lowers the tax on bread and milk. It also pays for school lunches in every county. It takes effect in the spring.', output: 'From the spring, a new law cuts the tax on bread and milk and pays for school lunches.' },
  { instruction: 'Write a short, polite reply declining the invitation.', input: 'Would you like to join us for dinner on Friday?', output: 'Thank you for asking, but I cannot come on Friday. I hope you have a lovely evening.' },
  { instruction: 'Write a one-line description of the object.', input: 'compass', output: 'A compass is an instrument whose needle points north, used to find direction.' },
  { instruction: 'Write a one-line description of the object.', input: 'lighthouse', output: 'A lighthouse is a tower with a bright light that warns ships of rocks and guides them to harbour.' },
  { instruction: 'Name three colours of the rainbow.', input: '', output: 'red, green and blue' },
  { instruction: 'Name the days of the weekend.', input: '', output: 'Saturday and Sunday' },
  { instruction: 'How many days are in a leap year?', input: '', output: '366' },
  { instruction: 'What is the freezing point of water in degrees Celsius?', input: '', output: '0' },
  { instruction: 'Give a synonym for the word.', input: 'vast', output: 'huge' },
  { instruction: 'Give a synonym for the word.', input: 'weary', output: 'tired' },
  { instruction: 'Turn the statement into a question.', input: 'The ship has left the port.', output: 'Has the ship left the port?' },
  { instruction: 'Turn the statement into a question.', input: 'The president will speak tonight.', output: 'Will the president speak tonight?' },
  { instruction: 'Translate the greeting into French.', input: 'Good morning', output: 'Bonjour' },
  { instruction: 'Translate the greeting into Spanish.', input: 'Thank you', output: 'Gracias' },
  { instruction: 'Which is larger?', input: '0.5 or 0.45', output: '0.5' },
  { instruction: 'Which is larger?', input: 'a whale or a dolphin', output: 'a whale' },
];
